package topology

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jitaccess/jitaccess/internal/proc"
)

// clockTicks is USER_HZ, 100 on every Linux this runs on.
const clockTicks = 100

// procStat is what the benchmark reads of /proc/PID/stat.
type procStat struct {
	comm     string
	ppid     int
	cpu      time.Duration // user + system
	children time.Duration // user + system of the children it reaped
}

func readStat(pid int) (procStat, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, err
	}
	// The command name may contain spaces; fields start after its closing parenthesis.
	s := string(b)
	open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || end < open {
		return procStat{}, fmt.Errorf("bad /proc/%d/stat", pid)
	}
	f := strings.Fields(s[end+1:])
	if len(f) < 15 {
		return procStat{}, fmt.Errorf("short /proc/%d/stat", pid)
	}
	var n [5]int64
	for i, k := range []int{1, 11, 12, 13, 14} { // ppid, utime, stime, cutime, cstime
		if n[i], err = strconv.ParseInt(f[k], 10, 64); err != nil {
			return procStat{}, fmt.Errorf("bad /proc/%d/stat", pid)
		}
	}
	tick := func(t int64) time.Duration { return time.Duration(t) * time.Second / clockTicks }
	return procStat{comm: s[open+1 : end], ppid: int(n[0]), cpu: tick(n[1] + n[2]), children: tick(n[3] + n[4])}, nil
}

// cpuTime is the user+system CPU time a process has used.
func cpuTime(pid int) (time.Duration, error) {
	st, err := readStat(pid)
	return st.cpu, err
}

// postgresCPU is the CPU time of the PostgreSQL servers on this machine: every postgres
// process, plus the backends that have exited (their postmaster's reaped children), so that a
// connection closed between two samples is still counted. Zero when none runs here.
func postgresCPU() time.Duration {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	stats := map[int]procStat{}
	for _, d := range dirs {
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil {
			continue
		}
		if st, err := readStat(pid); err == nil && st.comm == "postgres" {
			stats[pid] = st
		}
	}
	var total time.Duration
	for _, st := range stats {
		total += st.cpu
		if _, child := stats[st.ppid]; !child { // a postmaster
			total += st.children
		}
	}
	return total
}

// findServerPID finds the dev server this benchmark started: the process whose command
// line names its gRPC port.
func findServerPID(address string) int {
	_, port, _ := strings.Cut(address, ":")
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(string(b), "\x00")
		for i := 0; i+1 < len(args); i++ {
			if args[i] == "--port" && args[i+1] == port && strings.Contains(string(b), "start-dev") {
				pid, _ := strconv.Atoi(filepath.Base(d))
				return pid
			}
		}
	}
	return 0
}

// CPUSample is the CPU time used so far by this process, the Temporal server, the
// product's other processes and PostgreSQL.
type CPUSample struct{ self, server, product, postgres time.Duration }

// CPU samples the CPU time of the stack's processes.
func (s *Stack) CPU() CPUSample {
	var c CPUSample
	c.self, _ = cpuTime(os.Getpid())
	if pid := s.ServerPID(); pid > 0 {
		c.server, _ = cpuTime(pid)
	}
	for _, pid := range s.ProductPIDs() {
		t, _ := cpuTime(pid)
		c.product += t
	}
	c.postgres = postgresCPU()
	return c
}

// CPUPerRun is the CPU milliseconds per lifecycle since c: this process (dev: API, worker,
// emulator, load generator, floor worker; production: emulator, load generator, floor
// worker), the Temporal server, production's API and worker processes, and PostgreSQL (dev:
// the product's database only; production: Temporal's persistence too).
func (s *Stack) CPUPerRun(c CPUSample, n int) map[string]float64 {
	now := s.CPU()
	if n == 0 {
		n = 1
	}
	per := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) / float64(n) }
	out := map[string]float64{
		"bench_process_cpu_ms_per_lifecycle":   per(now.self - c.self),
		"temporal_server_cpu_ms_per_lifecycle": per(now.server - c.server),
	}
	if s.prod != nil {
		out["product_processes_cpu_ms_per_lifecycle"] = per(now.product - c.product)
	}
	if now.postgres > 0 {
		out["postgresql_cpu_ms_per_lifecycle"] = per(now.postgres - c.postgres)
	}
	return out
}

// RSSMiB reads VmRSS of pid from /proc/PID/status.
func RSSMiB(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			if err != nil {
				return 0, err
			}
			return float64(kb) / 1024, nil
		}
	}
	return 0, errors.New("no VmRSS")
}

// MemTotalMiB reads MemTotal from /proc/meminfo.
func MemTotalMiB() int {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	var kb int
	_, _ = fmt.Sscanf(string(b), "MemTotal: %d kB", &kb)
	return kb / 1024
}

// LoadAvg is the first three fields of /proc/loadavg.
func LoadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	return strings.Join(f[:min(3, len(f))], " ")
}

func pids(ps []*proc.Process) []int {
	var out []int
	for _, p := range ps {
		if pid := p.Pid(); pid > 0 {
			out = append(out, pid)
		}
	}
	return out
}
