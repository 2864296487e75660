package wbpf

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"
)

// binfmt_misc: where it is mounted and the magic of a Wasm module, "\0asm"
// and binary format version 1, as the kernel's register syntax escapes it.
const (
	binfmtDir   = "/proc/sys/fs/binfmt_misc"
	binfmtMagic = `\x00asm\x01\x00\x00\x00`
	// BINFMTFS_MAGIC, the file system's statfs type.
	binfmtFSMagic = 0x42494e4d
)

type binfmtOptions struct {
	name        string
	interpreter string
}

func newBinfmtCommand() *cobra.Command {
	var o binfmtOptions
	cmd := &cobra.Command{
		Use:   "binfmt install|uninstall|status",
		Short: "Run ./app.wasm directly, through the kernel's binfmt_misc",
		Long: `Register wbpf with the kernel's binfmt_misc as the handler of WebAssembly
modules (files starting with "\0asm", version 1), so that an executable
app.wasm runs as ./app.wasm [ARGS...], which is "wbpf app.wasm [ARGS...]".

  install    register (root; mounts binfmt_misc when it is not mounted)
  uninstall  remove the registration
  status     say whether it is registered, and with which interpreter

The registration names the wbpf binary by its absolute path (--interpreter,
default this one) and lasts until uninstall or reboot.`,
		Example: `  sudo wbpf binfmt install
  chmod +x app.wasm && sudo ./app.wasm -i 5
  wbpf binfmt status`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 || (args[0] != "install" && args[0] != "uninstall" && args[0] != "status") {
				return usageError{errors.New("binfmt: want one of install, uninstall, status")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if strings.ContainsAny(o.name, "/:\n") || o.name == "" || o.name == "." || o.name == ".." || o.name == "register" || o.name == "status" {
				return usageError{fmt.Errorf("binfmt: --name %q: want a plain name", o.name)}
			}
			switch args[0] {
			case "install":
				return o.install(cmd)
			case "uninstall":
				return o.uninstall(cmd)
			}
			return o.status(cmd)
		},
	}
	cmd.Flags().StringVar(&o.name, "name", "wbpf", "name of the registration under "+binfmtDir)
	cmd.Flags().StringVar(&o.interpreter, "interpreter", "", "the wbpf binary to register (default: this one)")
	return cmd
}

func (o *binfmtOptions) entry() string { return filepath.Join(binfmtDir, o.name) }

// mounted makes sure binfmt_misc is mounted; mount says whether it may
// mount it (install only).
func binfmtMounted(mount bool) error {
	var st unix.Statfs_t
	if unix.Statfs(binfmtDir, &st) == nil && st.Type == binfmtFSMagic {
		return nil
	}
	if !mount {
		return fmt.Errorf("binfmt: binfmt_misc is not mounted at %s", binfmtDir)
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("binfmt: binfmt_misc is not mounted at %s and mounting it needs root", binfmtDir)
	}
	if err := unix.Mount("binfmt_misc", binfmtDir, "binfmt_misc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil && !errors.Is(err, unix.EBUSY) {
		return fmt.Errorf("binfmt: mount -t binfmt_misc binfmt_misc %s: %w", binfmtDir, err)
	}
	return nil
}

func (o *binfmtOptions) install(cmd *cobra.Command) error {
	if os.Geteuid() != 0 {
		return errors.New("binfmt install: registering a binfmt_misc handler needs root")
	}
	interp := o.interpreter
	if interp == "" {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("binfmt install: finding this binary: %w (give --interpreter)", err)
		}
		interp = exe
	}
	interp, err := filepath.Abs(interp)
	if err != nil {
		return fmt.Errorf("binfmt install: %w", err)
	}
	if st, err := os.Stat(interp); err != nil {
		return fmt.Errorf("binfmt install: interpreter: %w", err)
	} else if !st.Mode().IsRegular() || st.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("binfmt install: interpreter %s is not an executable file", interp)
	}
	// The kernel's register line splits on ':' and ends at a newline.
	if strings.ContainsAny(interp, ":\n") {
		return fmt.Errorf("binfmt install: interpreter path %q contains ':' or a newline, which binfmt_misc cannot take", interp)
	}
	if err := binfmtMounted(true); err != nil {
		return err
	}
	if _, err := os.Stat(o.entry()); err == nil {
		return fmt.Errorf("binfmt install: %s is registered already (wbpf binfmt uninstall first)", o.name)
	}
	// No flags: the kernel runs "INTERPRETER PATH ARGS...", PATH as given to
	// exec, which is "wbpf PATH ARGS...".
	line := fmt.Sprintf(":%s:M::%s::%s:", o.name, binfmtMagic, interp)
	if err := os.WriteFile(filepath.Join(binfmtDir, "register"), []byte(line), 0); err != nil {
		return fmt.Errorf("binfmt install: register: %w", err)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "registered %s: WebAssembly modules run with %s\n", o.name, interp)
	return nil
}

func (o *binfmtOptions) uninstall(cmd *cobra.Command) error {
	if os.Geteuid() != 0 {
		return errors.New("binfmt uninstall: removing a binfmt_misc handler needs root")
	}
	if err := binfmtMounted(false); err != nil {
		return fmt.Errorf("binfmt uninstall: %s is not registered (binfmt_misc is not mounted at %s)", o.name, binfmtDir)
	}
	if err := os.WriteFile(o.entry(), []byte("-1"), 0); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("binfmt uninstall: %s is not registered", o.name)
		}
		return fmt.Errorf("binfmt uninstall: %w", err)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "unregistered %s\n", o.name)
	return nil
}

func (o *binfmtOptions) status(cmd *cobra.Command) error {
	if err := binfmtMounted(false); err != nil {
		return fmt.Errorf("binfmt: %s is not registered (binfmt_misc is not mounted at %s)", o.name, binfmtDir)
	}
	b, err := os.ReadFile(o.entry())
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("binfmt: %s is not registered", o.name)
	} else if err != nil {
		return fmt.Errorf("binfmt status: %w", err)
	}
	state, interp := "", ""
	for _, l := range strings.Split(string(b), "\n") {
		switch {
		case l == "enabled" || l == "disabled":
			state = l
		case strings.HasPrefix(l, "interpreter "):
			interp = strings.TrimPrefix(l, "interpreter ")
		}
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%s: %s, interpreter %s\n", o.name, state, interp)
	return nil
}
