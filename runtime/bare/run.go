package bare

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/wbpf/wbpf/runtime"
	"github.com/wbpf/wbpf/runtime/internal/bpf"
	"github.com/wbpf/wbpf/runtime/metrics"
	"github.com/wbpf/wbpf/skeleton/bpfobj"
)

// Output formats.
const (
	OutputTable = "table"
	OutputJSON  = "json"
)

// Options say what a run attaches, prints and exports.
type Options struct {
	// Attach gives targets to programs: PROG -> interface, cgroup
	// directory, or an override of the section's attach point.
	Attach map[string]string
	// Output is OutputTable (default) or OutputJSON.
	Output string
	// Interval prints the maps every interval (0: only at the end).
	Interval time.Duration
	// Types names the sample type of buffers: map name -> type name, ""
	// for every buffer.
	Types map[string]string
	// Maps chooses the maps printed; nil: histograms, and when the object
	// has neither buffers nor histograms, every map of data.
	Maps []string
	// Unit is the histogram column title (default "value").
	Unit string
	// Clear empties the printed maps after each print, so that each one
	// covers one interval (as libbpf-tools' runqlat prints).
	Clear bool
	// Command, if set, is run once everything is attached; the run ends
	// when it exits, with its exit status.
	Command []string
	// Duration, if > 0, ends the run after that long.
	Duration time.Duration

	// Metrics, if set, receives the metrics below.
	Metrics *metrics.Registry
	// MetricsConfig says which metrics to derive from events and maps.
	MetricsConfig MetricsConfig
}

// run is one run of an object.
type run struct {
	o    *Object
	hr   *runtime.HostRun
	opts Options
	reg  *bpf.Registry
	h    uint64

	mu   sync.Mutex // serialises output, and map reads against the close
	out  io.Writer
	done bool // objects closed: sources must not read maps any more

	// started is HostRun.Started (may be nil): called as the run first
	// waits, when what it allocated to start is garbage.
	started func()

	buffers []*buffer
	shown   []*shownMap // printed maps
	byName  map[string]*shownMap
}

// buffer is a ring buffer or perf event array being read.
type buffer struct {
	name   string
	token  int32
	typ    *value // nil: samples in hex
	leaves []leaf
	table  table
	r      *run
	cnt    []*eventCounter
}

// Run loads and attaches the object, prints its events and maps until ctx
// is done (or the command or duration ends), prints the maps a last time
// and removes everything from the kernel. The status is 0, or the
// command's exit status.
func (o *Object) Run(ctx context.Context, hr *runtime.HostRun, opts Options) (int, error) {
	if hr.Started != nil {
		defer hr.Started() // a run that failed before it waited (HostRun's is called once)
	}
	if opts.Output == "" {
		opts.Output = OutputTable
	}
	if opts.Output != OutputTable && opts.Output != OutputJSON {
		return 1, usagef("--output %q: want table or json", opts.Output)
	}
	if opts.Unit == "" {
		opts.Unit = "value"
	}
	r := &run{o: o, hr: hr, opts: opts, reg: hr.Registry, byName: map[string]*shownMap{}, started: hr.Started}
	r.out = &lockedWriter{mu: &r.mu, w: hr.Stdout}
	if err := r.plan(); err != nil {
		return 1, err
	}
	if opts.Metrics != nil {
		if err := r.addMetrics(opts.Metrics, opts.MetricsConfig); err != nil {
			return 1, err
		}
	}
	defer r.close()
	h, err := r.reg.Load(o.elf)
	if err != nil {
		return 1, fmt.Errorf("%s: %w", o.name, err)
	}
	r.mu.Lock()
	r.h = h
	err = r.bind() // under the lock: a scrape may read the maps as soon as they are bound
	r.mu.Unlock()
	if err != nil {
		return 1, err
	}
	// A perf event array gets its per-CPU rings when its reader is made, at
	// the first poll: until then the kernel drops what the programs send.
	// So the readers exist before anything is attached.
	for _, b := range r.buffers {
		if err := r.drain(b); err != nil {
			return 1, err
		}
	}
	// The local time zone is read on first use; read it now, or the run's own open of
	// /etc/localtime shows up among the events of a program that traces opens.
	_ = time.Now().Format("15:04:05")
	attached, err := r.attach()
	if err != nil {
		return 1, err
	}
	fmt.Fprintf(hr.Stderr, "wbpf: %s: attached %s; Ctrl-C to end\n", o.name, strings.Join(attached, ", "))
	return r.loop(ctx)
}

// plan decides, before anything is loaded, how each buffer is decoded and
// which maps are printed, so that a mistake in the flags costs nothing.
func (r *run) plan() error {
	o := r.o
	for prog := range r.opts.Attach {
		if !slices.ContainsFunc(o.obj.Programs, func(p bpfobj.Program) bool { return p.Name == prog }) {
			return usagef("--attach %s: %s has no program %s (it has %s)", prog, o.name, prog, strings.Join(programNames(o), ", "))
		}
	}
	for _, p := range o.obj.Programs {
		if _, ok := r.opts.Attach[p.Name]; !ok && !p.AutoAttach {
			return usagef("program %s (section %q) needs a target: --attach %s=%s", p.Name, p.Section, p.Name, targetHint(p.Section))
		}
	}
	for name := range r.opts.Types {
		if name == "" {
			continue
		}
		if m, ok := o.mapSpec(name); !ok || !isBuffer(m.Type) {
			return usagef("--type %s=...: %s has no ring buffer or perf event array %s", name, o.name, name)
		}
	}
	hasHist := false
	for i := range o.obj.Maps {
		spec := &o.obj.Maps[i]
		if isBuffer(spec.Type) {
			t, err := o.sampleType(spec, r.opts.Types)
			if err != nil {
				return err
			}
			b := &buffer{name: spec.Name, r: r}
			if t != nil {
				if b.typ, err = o.pl.plan(t, "", 0, 0); err != nil {
					return fmt.Errorf("%s: buffer %s: sample type: %w", o.name, spec.Name, err)
				}
				b.leaves = b.typ.leaves()
			} else {
				fmt.Fprintf(r.hr.Stderr, "wbpf: %s: buffer %s has no sample type: samples are shown in hex (give one with --type %s=STRUCT, or declare %s in the BPF program)\n",
					o.name, spec.Name, spec.Name, bpfobj.SampleIdiom("X"))
			}
			r.buffers = append(r.buffers, b)
			continue
		}
		if !printableMapType(spec.Type) {
			continue
		}
		sm, err := o.newShownMap(spec)
		if err != nil {
			return err
		}
		r.byName[spec.Name] = sm
		hasHist = hasHist || sm.slots != nil
	}
	if r.opts.Maps != nil {
		for _, name := range r.opts.Maps {
			sm, ok := r.byName[name]
			if !ok {
				return usagef("--map %s: %s has no map %s whose entries can be printed (it has %s)", name, o.name, name, strings.Join(o.Maps(), ", "))
			}
			r.shown = append(r.shown, sm)
		}
	} else {
		for _, name := range o.Maps() {
			sm, ok := r.byName[name]
			if ok && (sm.slots != nil || (!hasHist && len(r.buffers) == 0)) {
				r.shown = append(r.shown, sm)
			}
		}
	}
	return nil
}

func programNames(o *Object) []string {
	var names []string
	for _, p := range o.obj.Programs {
		names = append(names, p.Name)
	}
	return names
}

// targetHint says what kind of target a section wants.
func targetHint(section string) string {
	kind, _, _ := strings.Cut(section, "/")
	switch kind {
	case "xdp", "xdp.frags", "socket":
		return "IFACE"
	case "tc", "tcx", "classifier":
		return "IFACE[:ingress|:egress]"
	case "sockops", "cgroup", "cgroup_skb":
		return "CGROUP_DIR"
	}
	return "TARGET"
}

// bind looks up the loaded maps behind the plans.
func (r *run) bind() error {
	for _, b := range r.buffers {
		tok, err := r.reg.MapToken(r.h, b.name)
		if err != nil {
			return err
		}
		b.token = tok
	}
	for _, sm := range r.byName {
		tok, err := r.reg.MapToken(r.h, sm.name)
		if err != nil {
			return err
		}
		if sm.m, err = r.reg.Map(tok); err != nil {
			return err
		}
	}
	return nil
}

// attach attaches every program, with its --attach target if it has one.
func (r *run) attach() ([]string, error) {
	var done []string
	for _, p := range r.o.obj.Programs {
		target := r.opts.Attach[p.Name]
		if err := r.reg.Attach(r.h, p.Name, target); err != nil {
			return nil, fmt.Errorf("%s: %w", r.o.name, err)
		}
		where := p.Section
		if target != "" {
			where += " on " + target
		}
		done = append(done, p.Name+" ("+where+")")
	}
	if len(done) == 0 {
		return nil, fmt.Errorf("%s: no programs", r.o.name)
	}
	return done, nil
}

// loop reads the buffers until the run ends, then prints the final state.
func (r *run) loop(ctx context.Context) (int, error) {
	end, cancel := context.WithCancel(ctx)
	defer cancel()
	if r.opts.Duration > 0 {
		var c2 context.CancelFunc
		end, c2 = context.WithTimeout(end, r.opts.Duration)
		defer c2()
	}
	var cmd *exec.Cmd
	status := make(chan int, 1)
	if len(r.opts.Command) > 0 {
		cmd = exec.Command(r.opts.Command[0], r.opts.Command[1:]...)
		// A terminal stays the command's terminal; other writers get whole writes.
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, r.out, r.hr.Stderr
		if f, ok := r.hr.Stdout.(*os.File); ok {
			cmd.Stdout = f
		}
		if err := cmd.Start(); err != nil {
			return 1, fmt.Errorf("command: %w", err)
		}
		go func() {
			status <- commandStatus(cmd.Wait())
			cancel()
		}()
	}

	var wg sync.WaitGroup
	if r.opts.Interval > 0 && len(r.shown) > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(r.opts.Interval)
			defer t.Stop()
			for {
				select {
				case <-end.Done():
					return
				case now := <-t.C:
					r.printMaps(now)
				}
			}
		}()
	}

	if r.started != nil {
		r.started() // loaded, attached, the command and the ticker running: the start is over
	}
	var err error
	switch len(r.buffers) {
	case 0:
		select {
		case <-end.Done():
		case <-r.hr.Stop:
		}
	case 1:
		err = r.pollUntil(end, r.buffers[0], -1)
	default:
		// The registry serves one poll at a time: take turns.
		for err == nil && end.Err() == nil {
			for _, b := range r.buffers {
				if err = r.pollUntil(end, b, 20*time.Millisecond); err != nil || end.Err() != nil {
					break
				}
			}
		}
	}
	cancel()
	wg.Wait()
	if err == nil {
		// What the kernel wrote before the end is still shown.
		for _, b := range r.buffers {
			if err = r.drain(b); err != nil {
				break
			}
		}
	}
	if err != nil {
		if cmd != nil {
			_ = cmd.Process.Kill()
			<-status
		}
		return 1, err
	}
	r.printMaps(time.Now())
	if cmd == nil {
		return 0, nil
	}
	// The run ended before the command (Ctrl-C, --duration): the command goes too, asked
	// first, killed if it does not go.
	select {
	case code := <-status:
		return code, nil
	default:
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case code := <-status:
		return code, nil
	case <-time.After(2 * time.Second):
		_ = cmd.Process.Kill()
		return <-status, nil
	}
}

// pollUntil polls b until ctx is done (timeout < 0), or once for up to
// timeout.
func (r *run) pollUntil(ctx context.Context, b *buffer, timeout time.Duration) error {
	for {
		_, err := r.reg.Poll(ctx, r.h, b.token, timeout, b.sample)
		if errors.Is(err, bpf.ErrInterrupted) || ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return fmt.Errorf("buffer %s: %w", b.name, err)
		}
		if timeout >= 0 {
			return nil
		}
	}
}

// drain reads what is left in b without waiting.
func (r *run) drain(b *buffer) error {
	for range 1024 {
		n, err := r.reg.Poll(context.Background(), r.h, b.token, 0, b.sample)
		if err != nil {
			return fmt.Errorf("buffer %s: %w", b.name, err)
		}
		if n <= 0 {
			return nil
		}
	}
	return nil
}

// sample prints one sample and counts it.
func (b *buffer) sample(s []byte) int32 {
	r := b.r
	for _, c := range b.cnt {
		c.count(s)
	}
	if b.typ == nil {
		line := fmt.Sprintf("%s %s: %d bytes: %x\n", time.Now().Format("15:04:05"), b.name, len(s), s)
		if r.opts.Output == OutputJSON {
			line = fmt.Sprintf("{\"buffer\":%q,\"size\":%d,\"hex\":\"%x\"}\n", b.name, len(s), s)
		}
		_, _ = io.WriteString(r.out, line)
		return 0
	}
	if r.opts.Output == OutputJSON {
		line := b.typ.appendJSON(make([]byte, 0, 256), s, 0)
		_, _ = r.out.Write(append(line, '\n'))
		return 0
	}
	var sb strings.Builder
	if b.table.widths == nil {
		header := []string{"TIME    "}
		b.table.widths = []int{8}
		for _, l := range b.leaves {
			header = append(header, strings.ToUpper(l.name))
			b.table.widths = append(b.table.widths, l.width())
		}
		if len(r.buffers) > 1 {
			sb.WriteString(b.name + ":\n")
		}
		sb.WriteString(b.table.line(header))
	}
	cells := []string{time.Now().Format("15:04:05")}
	for _, l := range b.leaves {
		cells = append(cells, l.v.cell(s, 0))
	}
	sb.WriteString(b.table.line(cells))
	_, _ = io.WriteString(r.out, sb.String())
	return 0
}

// printMaps prints every shown map.
func (r *run) printMaps(now time.Time) {
	for _, sm := range r.shown {
		entries, err := sm.read()
		if err != nil {
			fmt.Fprintf(r.hr.Stderr, "wbpf: map %s: %v\n", sm.name, err)
			continue
		}
		if r.opts.Output == OutputJSON {
			err = sm.printJSON(r.out, entries, now)
		} else {
			err = sm.printTable(r.out, entries, now, r.opts.Unit)
		}
		if err == nil && r.opts.Clear {
			err = sm.clear(entries)
		}
		if err != nil {
			fmt.Fprintf(r.hr.Stderr, "wbpf: %v\n", err)
		}
	}
}

// close removes everything from the kernel; metric sources stop reading
// maps first.
func (r *run) close() {
	r.mu.Lock()
	r.done = true
	r.mu.Unlock()
	if err := r.reg.CloseAll(); err != nil {
		fmt.Fprintf(r.hr.Stderr, "wbpf: closing %s: %v\n", r.o.name, err)
	}
}

// commandStatus is a command's exit status as a shell reports it.
func commandStatus(err error) int {
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ee.ExitCode()
	}
	return 127
}

// lockedWriter makes each Write whole: events, map tables and the
// command's output never interleave inside a line.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
