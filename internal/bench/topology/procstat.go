package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, 100 on every Linux this runs on.
const clockTicks = 100

// cpuTime is the user+system CPU time a process has used, from /proc/PID/stat.
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name may contain spaces; fields start after its closing parenthesis.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("short /proc/%d/stat", pid)
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("bad /proc/%d/stat", pid)
	}
	return time.Duration(ut+st) * time.Second / clockTicks, nil
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

// cpuMeter measures the CPU this process and the dev server use during a batch.
type cpuMeter struct{ server int }

type cpuSample struct{ self, server time.Duration }

func (m cpuMeter) sample() cpuSample {
	self, _ := cpuTime(os.Getpid())
	var srv time.Duration
	if m.server > 0 {
		srv, _ = cpuTime(m.server)
	}
	return cpuSample{self, srv}
}

// perRun is the CPU milliseconds per lifecycle since s: this process (API, worker,
// emulator, load generator) and the Temporal dev server.
func (m cpuMeter) perRun(s cpuSample, n int) map[string]float64 {
	now := m.sample()
	if n == 0 {
		n = 1
	}
	return map[string]float64{
		"bench_process_cpu_ms_per_lifecycle": ms(now.self-s.self) / float64(n),
		"dev_server_cpu_ms_per_lifecycle":    ms(now.server-s.server) / float64(n),
	}
}
