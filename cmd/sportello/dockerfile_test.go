package main

import (
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// deploy/Dockerfile's structure (no container daemon is needed to check
// it; `make image` builds it where one runs): a stage builds the front-end
// assets with `make assets`, a stage builds the binary with them, and the
// last stage holds only the binary, runs it as a non-root user and listens
// where the manifests expect.

const dockerfilePath = "../../deploy/Dockerfile"

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	cmd  string // upper case
	args string
}

// stage is one FROM and what follows it.
type stage struct {
	from, name string
	ins        []instruction
}

func readDockerfile(t tb) []stage {
	t.Helper()
	raw, err := os.ReadFile(dockerfilePath)
	if err != nil {
		t.Fatalf("%v", err)
	}
	var stages []stage
	var cur string
	for _, line := range strings.Split(string(raw), "\n") {
		trimmed := strings.TrimSpace(line)
		if cur == "" && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if strings.HasSuffix(trimmed, "\\") {
			cur += strings.TrimSuffix(trimmed, "\\") + " "
			continue
		}
		cur += trimmed
		cmd, args, _ := strings.Cut(cur, " ")
		cur = ""
		in := instruction{cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args)}
		if in.cmd == "FROM" {
			f := strings.Fields(in.args)
			st := stage{from: f[0]}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				st.name = f[2]
			}
			stages = append(stages, st)
			continue
		}
		if len(stages) == 0 {
			t.Fatalf("Dockerfile: %s before the first FROM", in.cmd)
		}
		stages[len(stages)-1].ins = append(stages[len(stages)-1].ins, in)
	}
	return stages
}

// dockerfileUser is the numeric user id the image runs as.
func dockerfileUser(t tb) int {
	t.Helper()
	stages := readDockerfile(t)
	last := stages[len(stages)-1]
	for _, in := range slices.Backward(last.ins) {
		if in.cmd == "USER" {
			user, _, _ := strings.Cut(in.args, ":")
			uid, err := strconv.Atoi(user)
			if err != nil {
				t.Fatalf("Dockerfile: USER %q is not numeric (Kubernetes' runAsNonRoot can only check a number)", in.args)
			}
			return uid
		}
	}
	t.Fatalf("Dockerfile: the last stage sets no USER")
	return 0
}

func TestDockerfile(t *testing.T) {
	stages := readDockerfile(t)
	if len(stages) < 3 {
		t.Fatalf("want at least three stages (assets, build, run), got %d", len(stages))
	}
	names := map[string]int{}
	for i, s := range stages {
		if s.name != "" {
			names[s.name] = i
		}
		if strings.HasSuffix(s.from, ":latest") || !strings.Contains(s.from, ":") {
			t.Errorf("stage %d: FROM %s: pin a tag", i, s.from)
		}
		for _, in := range s.ins {
			if in.cmd == "ADD" {
				t.Errorf("stage %d: ADD %s: use COPY (ADD fetches URLs and unpacks archives unseen)", i, in.args)
			}
			if in.cmd == "RUN" && regexp.MustCompile(`\b(curl|wget)\b.*https?://`).MatchString(in.args) {
				t.Errorf("stage %d: RUN fetches from a URL: %s", i, in.args)
			}
		}
	}
	// The assets: a stage runs `make assets`, the build stage copies its
	// vendor folder before compiling (the binary embeds it).
	assets, ok := -1, false
	for i, s := range stages {
		if slices.ContainsFunc(s.ins, func(in instruction) bool { return in.cmd == "RUN" && strings.Contains(in.args, "make assets") }) {
			assets = i
		}
	}
	if assets < 0 {
		t.Fatalf("no stage runs `make assets`: an image from a clean checkout would have no Bootstrap Italia or htmx")
	}
	for _, s := range stages {
		copied, built := -1, -1
		for j, in := range s.ins {
			if in.cmd == "COPY" && strings.Contains(in.args, "--from="+stages[assets].name) && strings.Contains(in.args, "api/web/static/vendor") {
				copied = j
			}
			if in.cmd == "RUN" && strings.Contains(in.args, "go build") && strings.Contains(in.args, "./cmd/sportello") {
				built = j
				if !strings.Contains(in.args, "CGO_ENABLED=0") {
					t.Errorf("go build without CGO_ENABLED=0: the binary would need a C library the run-time image lacks")
				}
			}
		}
		if built >= 0 {
			ok = copied >= 0 && copied < built
		}
	}
	if !ok {
		t.Errorf("the stage that builds ./cmd/sportello does not copy the assets stage's api/web/static/vendor first")
	}
	// The run-time stage: only the binary, a non-root user, the ports and
	// listen addresses of the manifests, the binary as entry point.
	last := stages[len(stages)-1]
	env := map[string]string{}
	var exposed []int
	for _, in := range last.ins {
		switch in.cmd {
		case "COPY":
			if !strings.Contains(in.args, "--from=") {
				t.Errorf("the run-time stage copies from the build context: %s", in.args)
			}
		case "RUN":
			t.Errorf("the run-time stage runs %q: it has no shell and needs none", in.args)
		case "ENV":
			for _, kv := range strings.Fields(in.args) {
				k, v, _ := strings.Cut(kv, "=")
				env[k] = v
			}
		case "EXPOSE":
			for _, p := range strings.Fields(in.args) {
				n, _ := strconv.Atoi(strings.TrimSuffix(p, "/tcp"))
				exposed = append(exposed, n)
			}
		case "ENTRYPOINT":
			if in.args != `["/sportello"]` {
				t.Errorf("ENTRYPOINT %s: the manifests give the subcommand as args to /sportello", in.args)
			}
		}
	}
	if uid := dockerfileUser(t); uid == 0 {
		t.Errorf("the image runs as root")
	}
	cfg, err := loadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("the image's environment does not load: %v", err)
	}
	for _, a := range []struct{ env, addr string }{{"SPORTELLO_HTTP_ADDR", cfg.HTTPAddr}, {"SPORTELLO_METRICS_ADDR", cfg.MetricsAddr}} {
		if p := addrPort(t, a.env, a.addr); !slices.Contains(exposed, p) {
			t.Errorf("%s %s: port %d is not exposed (%v)", a.env, a.addr, p, exposed)
		}
	}
	if env["TMPDIR"] != "/tmp" {
		t.Errorf("TMPDIR %q: the one writable place of a read-only root file system is /tmp", env["TMPDIR"])
	}
	// The exposed ports are the containers' in the manifests.
	base, err := kustomizeBuild(k8sBase)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range base {
		for _, c := range containersOf(o) {
			ports, _ := c["ports"].([]any)
			for _, p := range ports {
				if n := p.(map[string]any)["containerPort"].(int); !slices.Contains(exposed, n) {
					t.Errorf("%s: container port %d is not exposed by the image", o.id(), n)
				}
			}
		}
	}
}
