package bench

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// processCPU is the CPU time, in seconds, that this process and its
// descendants (the PostgreSQL cluster and the Temporal dev server the tests
// start) have used so far, by program: "bench" (this process: the worker,
// the store and the scripted users), "postgres", "temporal". It reads /proc
// (Linux); elsewhere it returns nil.
func processCPU() map[string]float64 {
	type proc struct {
		ppid int
		comm string
		cpu  float64
	}
	procs := map[int]proc{}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, path := range stats {
		raw, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		s := string(raw)
		open, close := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || close < open {
			continue
		}
		pid, _ := strconv.Atoi(strings.TrimSpace(s[:open]))
		f := strings.Fields(s[close+1:])
		if len(f) < 13 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		utime, _ := strconv.ParseFloat(f[11], 64)
		stime, _ := strconv.ParseFloat(f[12], 64)
		procs[pid] = proc{ppid: ppid, comm: s[open+1 : close], cpu: (utime + stime) / 100} // USER_HZ is 100 on Linux
	}
	if len(procs) == 0 {
		return nil
	}
	self := os.Getpid()
	out := map[string]float64{}
	for pid, p := range procs {
		name := ""
		for q, hops := pid, 0; hops < 10; hops++ {
			if q == self {
				name = "other"
				break
			}
			pp, ok := procs[q]
			if !ok {
				break
			}
			q = pp.ppid
		}
		switch {
		case pid == self:
			name = "bench"
		case name == "":
			continue
		case strings.HasPrefix(p.comm, "postgres"):
			name = "postgres"
		case strings.HasPrefix(p.comm, "temporal"):
			name = "temporal"
		}
		out[name] += p.cpu
	}
	return out
}
