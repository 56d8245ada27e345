package report

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// WriteOutputs writes report.json, latency.svg and table.txt (named by topology, mode and
// start time) under dir and returns their paths.
func WriteOutputs(rep *Report, dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	stamp := rep.Started.Format("20060102-150405")
	var paths []string
	write := func(name string, fn func(io.Writer) error) error {
		p := filepath.Join(dir, fmt.Sprintf("bench-%s-%s-%s-%s", rep.Topology, rep.Mode, stamp, name))
		f, err := os.Create(p)
		if err != nil {
			return err
		}
		if err := fn(f); err != nil {
			f.Close()
			return err
		}
		paths = append(paths, p)
		return f.Close()
	}
	err := errors.Join(write("report.json", rep.WriteJSON), write("latency.svg", rep.WriteSVG), write("table.txt", rep.WriteTable))
	return paths, err
}
