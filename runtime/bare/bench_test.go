package bare

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// benchBuffer is the fixture's perf buffer, decoding struct sample (104 bytes, nested struct,
// array, bitfields, enum, string) into a file: the work per event of a bare run.
func benchBuffer(b *testing.B, output string) *buffer {
	b.Helper()
	o := parseFixture(&testing.T{})
	f, err := os.Create(filepath.Join(b.TempDir(), "out"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { f.Close() })
	r := &run{o: o, opts: Options{Output: output}}
	r.out = &lockedWriter{mu: &sync.Mutex{}, w: f}
	m, _ := o.mapSpec("events")
	t, _ := o.sampleType(m, nil)
	buf := &buffer{name: "events", r: r}
	buf.typ, _ = o.pl.plan(t, "", 0, 0)
	buf.leaves = buf.typ.leaves()
	r.buffers = []*buffer{buf}
	return buf
}

func BenchmarkSample(b *testing.B) {
	s := sampleBytes()
	// write: the same JSON line, already formatted, written the same way: what the sink costs
	// without decoding.
	b.Run("write", func(b *testing.B) {
		buf := benchBuffer(b, OutputJSON)
		line := append(buf.typ.appendJSON(nil, s, 0), '\n')
		b.ReportAllocs()
		for b.Loop() {
			buf.r.out.Write(line)
		}
	})
	for _, output := range []string{OutputJSON, OutputTable} {
		b.Run(output, func(b *testing.B) {
			buf := benchBuffer(b, output)
			b.ReportAllocs()
			for b.Loop() {
				buf.sample(s)
			}
		})
	}
}
