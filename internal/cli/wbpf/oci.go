package wbpf

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/wbpf/wbpf/internal/outfile"
	"github.com/wbpf/wbpf/oci"
)

// registryFlags are the flags of every command that talks to a registry.
type registryFlags struct {
	plainHTTP     bool
	username      string
	passwordStdin bool
	timeouts      oci.Timeouts
}

func (r *registryFlags) add(f *pflag.FlagSet) {
	f.BoolVar(&r.plainHTTP, "plain-http", false, "talk HTTP instead of HTTPS to the registry (local registries)")
	f.StringVar(&r.username, "username", "", "registry user name; the password comes from --password-stdin (default: the Docker config's credentials, else anonymous)")
	f.BoolVar(&r.passwordStdin, "password-stdin", false, "read the registry password from standard input")
	f.DurationVar(&r.timeouts.Connect, "connect-timeout", oci.DefaultConnectTimeout, "give up connecting to the registry after this `DURATION` (0: never)")
	f.DurationVar(&r.timeouts.Header, "header-timeout", oci.DefaultHeaderTimeout, "give up on a request the registry does not answer within this `DURATION` (0: never)")
	f.DurationVar(&r.timeouts.Idle, "idle-timeout", oci.DefaultIdleTimeout, "give up on a transfer that brings less than 1 KiB in this `DURATION` (0: never)")
}

// zeroIsNever turns the flags' 0 ("never") into oci.Timeouts' negative, whose 0 is the default.
func zeroIsNever(t oci.Timeouts) oci.Timeouts {
	for _, d := range []*time.Duration{&t.Connect, &t.Header, &t.Idle} {
		if *d == 0 {
			*d = -1
		}
	}
	return t
}

// options reads the password, if asked to, and sets up a progress line when stderr is a
// terminal.
func (r *registryFlags) options(cmd *cobra.Command) (oci.Options, error) {
	o := oci.Options{PlainHTTP: r.plainHTTP, Username: r.username, Timeouts: zeroIsNever(r.timeouts)}
	for name, d := range map[string]time.Duration{"--connect-timeout": r.timeouts.Connect, "--header-timeout": r.timeouts.Header, "--idle-timeout": r.timeouts.Idle} {
		if d < 0 {
			return o, usageError{fmt.Errorf("%s %v: want a positive duration, or 0 for none", name, d)}
		}
	}
	if r.passwordStdin != (r.username != "") {
		return o, usageError{errors.New("--username and --password-stdin go together")}
	}
	if r.passwordStdin {
		b, err := io.ReadAll(cmd.InOrStdin())
		if err != nil {
			return o, fmt.Errorf("--password-stdin: %w", err)
		}
		o.Password = strings.TrimRight(string(b), "\r\n")
		if o.Password == "" {
			return o, usageError{errors.New("--password-stdin: empty password")}
		}
	}
	if f, ok := cmd.ErrOrStderr().(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		o.Progress = oci.NewProgress(f, oci.ProgressThreshold)
	}
	return o, nil
}

// moduleCache is where pulled modules are kept: beside the compilation cache.
func moduleCache(cacheDir string) oci.Cache {
	if cacheDir == "" {
		return oci.Cache{}
	}
	return oci.Cache{Dir: filepath.Join(cacheDir, "oci")}
}

// refError marks a malformed reference as a usage error.
func refError(err error) error {
	if errors.Is(err, oci.ErrBadReference) {
		return usageError{err}
	}
	return err
}

type pushOptions struct {
	registry    registryFlags
	annotations []string
	created     string
}

func newPushCommand() *cobra.Command {
	var o pushOptions
	cmd := &cobra.Command{
		Use:   "push [flags] APP.wasm|APP.bpf.o REF",
		Short: "Push a WebAssembly guest, or a BPF object, to an OCI registry",
		Long: `Push APP.wasm to REF (REGISTRY/REPOSITORY[:TAG], the tag defaults to latest) as a
CNCF Wasm OCI artifact: config application/vnd.wasm.config.v0+json, one layer
application/wasm titled with the file name. An ELF BPF object (APP.bpf.o, for
'wbpf run REF' with no guest) goes as config ` + oci.MediaTypeBPFConfig + `
and one layer ` + oci.MediaTypeBPFLayer + `. The same content, name and
annotations give the same manifest digest: nothing records the time unless
--created asks for it. Prints the pushed REGISTRY/REPOSITORY@DIGEST.`,
		Example: `  wbpf push -a org.opencontainers.image.source=https://github.com/me/app app.wasm ghcr.io/me/app:v1
  echo "$PASSWORD" | wbpf push --plain-http --username me --password-stdin app.wasm localhost:5000/app:v1`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 2 {
				return usageError{fmt.Errorf("push: want APP.wasm (or APP.bpf.o) and REF, got %d arguments", len(args))}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return o.run(cmd, args[0], args[1]) },
	}
	f := cmd.Flags()
	f.StringArrayVarP(&o.annotations, "annotation", "a", nil, "add manifest annotation `KEY=VALUE` (repeatable)")
	f.StringVar(&o.created, "created", "", "record a creation `TIME` (RFC 3339, or \"now\"); without it the manifest is reproducible")
	o.registry.add(f)
	return cmd
}

func (o *pushOptions) run(cmd *cobra.Command, file, ref string) error {
	po := oci.PushOptions{Title: filepath.Base(file), Annotations: map[string]string{}}
	for _, kv := range o.annotations {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return usageError{fmt.Errorf("--annotation %q: want KEY=VALUE", kv)}
		}
		po.Annotations[k] = v
	}
	switch o.created {
	case "":
	case "now":
		po.Created = time.Now()
	default:
		t, err := time.Parse(time.RFC3339, o.created)
		if err != nil {
			return usageError{fmt.Errorf("--created %q: want an RFC 3339 time like 2026-01-02T15:04:05Z, or now", o.created)}
		}
		po.Created = t
	}
	if _, err := oci.ParseReference(ref); err != nil {
		return refError(err)
	}
	var err error
	if po.Options, err = o.registry.options(cmd); err != nil {
		return err
	}
	wasm, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	pushed, err := oci.Push(cmd.Context(), wasm, ref, po)
	if err != nil {
		if errors.Is(err, oci.ErrNotWasm) {
			return fmt.Errorf("%s: %w", file, err)
		}
		return refError(err)
	}
	fmt.Fprintln(cmd.OutOrStdout(), pushed.Reference)
	return nil
}

type pullOptions struct {
	registry registryFlags
	output   string
	cacheDir string
	force    bool
}

func newPullCommand() *cobra.Command {
	var o pullOptions
	cmd := &cobra.Command{
		Use:   "pull [flags] REF",
		Short: "Pull a WebAssembly guest from an OCI registry",
		Long: `Pull the Wasm module at REF (REGISTRY/REPOSITORY[:TAG|@DIGEST]) into a file:
-o, else the file name the artifact records, else the repository's last
component with .wasm. Reads the CNCF Wasm OCI artifact layout and the layout
of eunomia-bpf's ecli and wasm-to-oci. The module is verified against its
digest, checked to be a Wasm module, and kept in the cache by digest; the file
is written whole or not at all.

An existing file is not replaced unless --force is given (a file that already
holds this module is left as it is, and the pull succeeds). -o writes through
symlinks, and writes devices and FIFOs (-o /dev/null) in place. A file name
recorded by the artifact is used only if it is a plain visible file name (no
path separators, no leading dot, no control characters); otherwise wbpf says
so and uses the repository's name.`,
		Example: `  wbpf pull ghcr.io/me/app:v1
  wbpf pull --plain-http -o app.wasm localhost:5000/app@sha256:...`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError{fmt.Errorf("pull: want one REF, got %d arguments", len(args))}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return o.run(cmd, args[0]) },
	}
	f := cmd.Flags()
	f.StringVarP(&o.output, "output", "o", "", "write the module to `FILE` (- for standard output)")
	f.BoolVarP(&o.force, "force", "f", false, "replace the output file if it exists")
	f.StringVar(&o.cacheDir, "cache-dir", defaultCacheDir(), "keep pulled modules here, by digest")
	o.registry.add(f)
	return cmd
}

func (o *pullOptions) run(cmd *cobra.Command, ref string) error {
	r, err := oci.ParseReference(ref)
	if err != nil {
		return refError(err)
	}
	opts, err := o.registry.options(cmd)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	cache := moduleCache(o.cacheDir)
	if o.output == "-" {
		p, err := oci.Pull(ctx, ref, cache, opts)
		if err != nil {
			return err
		}
		_, err = cmd.OutOrStdout().Write(p.Wasm)
		return err
	}
	a, err := oci.Resolve(ctx, ref, cache, opts)
	if err != nil {
		return err
	}
	out := o.output
	if out == "" {
		out = a.Title
		if out == "" {
			out = path.Base(r.Repository) + ".wasm"
			if a.Layer.MediaType == oci.MediaTypeBPFLayer {
				out = path.Base(r.Repository) + ".bpf.o"
			}
		}
		if a.RefusedTitle != "" {
			fmt.Fprintf(cmd.ErrOrStderr(), "wbpf: not using the file name %q that %s records (%s); writing %s\n", a.RefusedTitle, a.Name, a.Refused, out)
		}
	}
	err = outfile.Write(ctx, out, outfile.Options{NoClobber: !o.force}, func(w io.Writer) error {
		_, err := a.WriteTo(ctx, w)
		return err
	})
	switch {
	case errors.Is(err, fs.ErrExist) && holds(out, a.Layer.Digest):
		// Already there: nothing to replace.
	case errors.Is(err, fs.ErrExist):
		return fmt.Errorf("%s: already exists and is not this module (--force replaces it)", out)
	case err != nil:
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%s: %s/%s@%s (%d bytes)\n", out, r.Registry, r.Repository, a.Manifest.Digest, a.Layer.Size)
	return nil
}

// holds reports whether the regular file at path has content of digest d.
func holds(path string, d digest.Digest) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() || d.Validate() != nil {
		return false
	}
	v := d.Verifier()
	_, err = io.Copy(v, f)
	return err == nil && v.Verified()
}
