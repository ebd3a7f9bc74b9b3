package main

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"sportello/api"
	"sportello/internal/store"
)

// The deployment (issue 14): deploy/k8s's base and production overlay,
// built (kustomize_test.go), checked against what the binary reads and
// serves: every setting production requires (productionSettings) is given
// to the command that needs it, the secret ones (secretSettings) from
// Secrets only; the configuration a pod gets passes requireProduction and
// loadConfig; ports and probe paths are the ones the code listens on and
// serves; and the production result keeps no development default.

const (
	k8sBase       = "../../deploy/k8s/base"
	k8sProduction = "../../deploy/k8s/overlays/production"
)

// fromSecretStore stands in for a value the production Secrets get from
// the secret store (they are not in the repository).
const fromSecretStore = "value-from-the-secret-store-0123456789"

// podEnv is the environment of one container: each variable's value and
// whether it comes from a Secret.
type podEnv struct {
	values map[string]string
	secret map[string]bool
}

func (e podEnv) getenv(k string) string { return e.values[k] }

// containerEnv resolves a container's envFrom and env against objs; a
// Secret missing from objs (production: it comes from the secret store)
// is read from the base, whose placeholder Secret names its keys, and its
// values stand in as fromSecretStore.
func containerEnv(t tb, c map[string]any, objs, base []object) podEnv {
	t.Helper()
	e := podEnv{values: map[string]string{}, secret: map[string]bool{}}
	find := func(kind, name string) (object, bool) {
		for _, o := range objs {
			if o.kind() == kind && o.name() == name {
				return o, true
			}
		}
		return nil, false
	}
	data := func(kind, name string) map[string]string {
		o, ok := find(kind, name)
		external := false
		if !ok && kind == "Secret" {
			for _, b := range base {
				if b.kind() == kind && b.name() == name {
					o, ok, external = b, true, true
				}
			}
		}
		if !ok {
			t.Fatalf("container %s: %s %s is not defined", c["name"], kind, name)
		}
		out := map[string]string{}
		for _, key := range []string{"data", "stringData"} {
			m, _ := o[key].(map[string]any)
			for k, v := range m {
				out[k] = fmt.Sprint(v)
				if external {
					out[k] = fromSecretStore
				}
			}
		}
		return out
	}
	from, _ := c["envFrom"].([]any)
	for _, f := range from {
		fm := f.(map[string]any)
		for kind, key := range map[string]string{"ConfigMap": "configMapRef", "Secret": "secretRef"} {
			if ref, ok := fm[key].(map[string]any); ok {
				for k, v := range data(kind, ref["name"].(string)) {
					e.values[k], e.secret[k] = v, kind == "Secret"
				}
			}
		}
	}
	env, _ := c["env"].([]any)
	for _, v := range env {
		vm := v.(map[string]any)
		name := vm["name"].(string)
		switch {
		case vm["value"] != nil:
			e.values[name], e.secret[name] = fmt.Sprint(vm["value"]), false
		case vm["valueFrom"] != nil:
			vf := vm["valueFrom"].(map[string]any)
			for kind, key := range map[string]string{"ConfigMap": "configMapKeyRef", "Secret": "secretKeyRef"} {
				if ref, ok := vf[key].(map[string]any); ok {
					e.values[name], e.secret[name] = data(kind, ref["name"].(string))[ref["key"].(string)], kind == "Secret"
				}
			}
		}
	}
	return e
}

// containerPort is the port number of a container's port named name (or
// given as a number).
func containerPort(c map[string]any, port any) (int, bool) {
	if n, ok := port.(int); ok {
		return n, true
	}
	ports, _ := c["ports"].([]any)
	for _, p := range ports {
		pm := p.(map[string]any)
		if pm["name"] == port {
			n, ok := pm["containerPort"].(int)
			return n, ok
		}
	}
	return 0, false
}

func addrPort(t tb, env, addr string) int {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("%s %q: %v", env, addr, err)
	}
	if host != "" && host != "0.0.0.0" && host != "::" {
		t.Errorf("%s %q listens on %s only: in a pod it must listen on every interface (\":%s\")", env, addr, host, port)
	}
	n, _ := strconv.Atoi(port)
	return n
}

// served reports the status the code answers on path: the API's handler
// on the port "http", the metrics listener on the port "metrics".
func served(t tb, portName, path string) int {
	t.Helper()
	var h http.Handler
	switch portName {
	case "http":
		h = api.New(api.Deps{Store: &store.Store{}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	case "metrics":
		h = metricsHandler()
	default:
		t.Fatalf("probe on port %q: no listener of the binary has that name", portName)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	return rec.Code
}

// checkManifests checks one built set of objects; production adds the
// checks of nothing left at a development default.
func checkManifests(t tb, objs, base []object, production bool) {
	byID := map[string]object{}
	for _, o := range objs {
		if _, dup := byID[o.id()]; dup {
			t.Errorf("%s defined twice", o.id())
		}
		byID[o.id()] = o
	}
	for _, id := range []string{"Deployment/sportello-api", "Deployment/sportello-worker", "Job/sportello-migrate",
		"Service/sportello-api", "ConfigMap/sportello", "HorizontalPodAutoscaler/sportello-api",
		"HorizontalPodAutoscaler/sportello-worker", "PodDisruptionBudget/sportello-api",
		"PodDisruptionBudget/sportello-worker", "NetworkPolicy/sportello"} {
		if byID[id] == nil {
			t.Errorf("%s is missing", id)
		}
	}
	uid := dockerfileUser(t)
	commands := map[string]bool{}
	images := map[string]bool{}
	for _, o := range objs {
		ps := podSpec(o)
		if ps == nil {
			continue
		}
		sc, _ := ps["securityContext"].(map[string]any)
		if sc["runAsNonRoot"] != true || sc["runAsUser"] != uid {
			t.Errorf("%s: pods must run as non-root user %d (the image's USER): %v", o.id(), uid, sc)
		}
		for _, c := range containersOf(o) {
			where := o.id() + " container " + c["name"].(string)
			images[c["image"].(string)] = true
			args, _ := c["args"].([]any)
			if len(args) == 0 || !strings.Contains(usage, "\n  "+fmt.Sprint(args[0])+" ") {
				t.Errorf("%s: args %v do not start with a command of the binary", where, args)
				continue
			}
			cmd := args[0].(string)
			commands[cmd] = true
			csc, _ := c["securityContext"].(map[string]any)
			if csc["readOnlyRootFilesystem"] != true || csc["allowPrivilegeEscalation"] != false {
				t.Errorf("%s: wants a read-only root file system and no privilege escalation: %v", where, csc)
			}
			res, _ := c["resources"].(map[string]any)
			req, _ := res["requests"].(map[string]any)
			lim, _ := res["limits"].(map[string]any)
			if req["memory"] == nil || req["cpu"] == nil || lim["memory"] == nil {
				t.Errorf("%s: memory and cpu requests and a memory limit are wanted: %v", where, res)
			}
			env := containerEnv(t, c, objs, base)
			if gml, ok := env.values["GOMEMLIMIT"]; ok && mebibytes(t, gml) >= mebibytes(t, fmt.Sprint(lim["memory"])) {
				t.Errorf("%s: GOMEMLIMIT %s is not below the memory limit %v", where, gml, lim["memory"])
			}
			// The secret settings come from Secrets, whoever reads them.
			for _, k := range secretSettings {
				if _, ok := env.values[k]; ok && !env.secret[k] {
					t.Errorf("%s: %s is a secret but is not given from a Secret", where, k)
				}
			}
			if cmd == "migrate" {
				if !env.secret["DATABASE_URL"] {
					t.Errorf("%s: DATABASE_URL not given from a Secret", where)
				}
				continue
			}
			required, ok := productionSettings[cmd]
			if !ok {
				t.Errorf("%s: command %q has no production settings", where, cmd)
				continue
			}
			for _, s := range required {
				if _, ok := env.values[s.env]; !ok {
					t.Errorf("%s: %s (%s) is not given; `sportello %s` refuses to start without it", where, s.env, s.what, cmd)
				}
			}
			cfg, err := loadConfig(env.getenv)
			if err != nil {
				t.Errorf("%s: the configuration does not load: %v", where, err)
				continue
			}
			if production {
				if err := requireProduction(cmd, env.getenv); err != nil {
					t.Errorf("%s: %v", where, err)
				}
			}
			// Ports: what the process listens on is what the pod declares.
			if cfg.MetricsAddr == "off" {
				t.Errorf("%s: SPORTELLO_METRICS_ADDR is off, nothing serves port metrics", where)
			} else if p, ok := containerPort(c, "metrics"); !ok || p != addrPort(t, "SPORTELLO_METRICS_ADDR", cfg.MetricsAddr) {
				t.Errorf("%s: port metrics %d, SPORTELLO_METRICS_ADDR %s", where, p, cfg.MetricsAddr)
			}
			if cmd == "api" {
				if p, ok := containerPort(c, "http"); !ok || p != addrPort(t, "SPORTELLO_HTTP_ADDR", cfg.HTTPAddr) {
					t.Errorf("%s: port http %d, SPORTELLO_HTTP_ADDR %s", where, p, cfg.HTTPAddr)
				}
				if c["readinessProbe"] == nil {
					t.Errorf("%s: no readiness probe", where)
				}
			}
			if c["livenessProbe"] == nil {
				t.Errorf("%s: no liveness probe", where)
			}
			// Probes: on a declared port, on a path the code serves. The
			// liveness probe must not fail while PostgreSQL or Temporal do
			// (that would restart every pod at once).
			for _, kind := range []string{"readinessProbe", "livenessProbe", "startupProbe"} {
				p, _ := c[kind].(map[string]any)
				if p == nil {
					continue
				}
				hg, _ := p["httpGet"].(map[string]any)
				if hg == nil {
					t.Errorf("%s: %s is not an httpGet", where, kind)
					continue
				}
				portName, _ := hg["port"].(string)
				if _, ok := containerPort(c, portName); !ok {
					t.Errorf("%s: %s on port %v, which the container does not declare", where, kind, hg["port"])
					continue
				}
				code := served(t, portName, hg["path"].(string))
				switch {
				case code == http.StatusNotFound:
					t.Errorf("%s: %s on %s, which the code does not serve", where, kind, hg["path"])
				case kind == "livenessProbe" && code != http.StatusOK:
					t.Errorf("%s: %s on %s answers %d without a database", where, kind, hg["path"], code)
				}
			}
		}
	}
	for _, cmd := range []string{"api", "worker", "migrate"} {
		if !commands[cmd] {
			t.Errorf("no container runs `sportello %s`", cmd)
		}
	}
	if len(images) != 1 {
		t.Errorf("one image for every role, got %v", images)
	}
	checkService(t, byID)
	checkScaling(t, byID)
	checkNetworkPolicy(t, byID)
	if production {
		for img := range images {
			if strings.HasPrefix(img, "registry.example.org/") || strings.HasSuffix(img, ":latest") || !strings.Contains(img, ":") {
				t.Errorf("production image %s: the release's image, with a tag", img)
			}
		}
		checkNoDevDefaults(t, objs, base)
	}
}

func checkService(t tb, byID map[string]object) {
	svc, dep := byID["Service/sportello-api"], byID["Deployment/sportello-api"]
	if svc == nil || dep == nil {
		return
	}
	spec := svc["spec"].(map[string]any)
	if !labelsMatch(spec["selector"].(map[string]any), podLabels(dep)) {
		t.Errorf("Service sportello-api selects no API pod")
	}
	for _, p := range spec["ports"].([]any) {
		if _, ok := containerPort(containersOf(dep)[0], p.(map[string]any)["targetPort"]); !ok {
			t.Errorf("Service sportello-api: targetPort %v is no port of the API container", p.(map[string]any)["targetPort"])
		}
	}
}

func checkScaling(t tb, byID map[string]object) {
	for _, comp := range []string{"api", "worker"} {
		dep := byID["Deployment/sportello-"+comp]
		hpa, pdb := byID["HorizontalPodAutoscaler/sportello-"+comp], byID["PodDisruptionBudget/sportello-"+comp]
		if dep == nil || hpa == nil || pdb == nil {
			continue
		}
		hs := hpa["spec"].(map[string]any)
		ref := hs["scaleTargetRef"].(map[string]any)
		if ref["kind"] != "Deployment" || ref["name"] != dep.name() {
			t.Errorf("HPA sportello-%s scales %v", comp, ref)
		}
		minR, _ := hs["minReplicas"].(int)
		maxR, _ := hs["maxReplicas"].(int)
		ps := pdb["spec"].(map[string]any)
		minA, _ := ps["minAvailable"].(int)
		if minR < 2 || maxR < minR || minA < 1 || minA >= minR {
			t.Errorf("sportello-%s: HPA %d..%d replicas, PDB minAvailable %d: want 2 <= min <= max, 1 <= minAvailable < min", comp, minR, maxR, minA)
		}
		sel := ps["selector"].(map[string]any)["matchLabels"].(map[string]any)
		if !labelsMatch(sel, podLabels(dep)) {
			t.Errorf("PDB sportello-%s selects no pod of its Deployment", comp)
		}
	}
}

func checkNetworkPolicy(t tb, byID map[string]object) {
	np, dep := byID["NetworkPolicy/sportello"], byID["Deployment/sportello-api"]
	if np == nil || dep == nil {
		return
	}
	spec := np["spec"].(map[string]any)
	sel := spec["podSelector"].(map[string]any)["matchLabels"].(map[string]any)
	for _, d := range []string{"Deployment/sportello-api", "Deployment/sportello-worker", "Job/sportello-migrate"} {
		if o := byID[d]; o != nil && !labelsMatch(sel, podLabels(o)) {
			t.Errorf("NetworkPolicy sportello does not select the pods of %s", d)
		}
	}
	open := map[int]bool{}
	for _, r := range spec["ingress"].([]any) {
		for _, p := range r.(map[string]any)["ports"].([]any) {
			open[p.(map[string]any)["port"].(int)] = true
		}
	}
	c := containersOf(dep)[0]
	for _, name := range []string{"http", "metrics"} {
		if p, _ := containerPort(c, name); !open[p] {
			t.Errorf("NetworkPolicy sportello lets nothing reach the API's port %s (%d)", name, p)
		}
	}
	egress := map[int]bool{}
	for _, r := range spec["egress"].([]any) {
		for _, p := range r.(map[string]any)["ports"].([]any) {
			egress[p.(map[string]any)["port"].(int)] = true
		}
	}
	for _, p := range []int{53, 5432, 7233, 443} {
		if !egress[p] {
			t.Errorf("NetworkPolicy sportello: no egress to port %d (DNS, PostgreSQL, Temporal, HTTPS)", p)
		}
	}
}

func podLabels(o object) map[string]any {
	tmpl := o["spec"].(map[string]any)["template"].(map[string]any)
	return tmpl["metadata"].(map[string]any)["labels"].(map[string]any)
}

func labelsMatch(sel, labels map[string]any) bool {
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return len(sel) > 0
}

// checkNoDevDefaults walks every string of the production result for the
// development defaults, the sandboxes and the base's placeholders, and
// checks the ConfigMap's addresses one by one.
func checkNoDevDefaults(t tb, objs, base []object) {
	forbidden := []string{devPaySecret, devPseudonymKey, devPaymentsURL, devAccountingURL, "127.0.0.1", "localhost",
		"CHANGE-ME", "example.org", "sandbox"}
	for _, o := range objs {
		walkStrings(o, func(s string) {
			for _, f := range forbidden {
				if strings.Contains(s, f) {
					t.Errorf("%s keeps a development default or placeholder (%q): %q", o.id(), f, s)
				}
			}
		})
	}
	var cm, baseCM map[string]any
	for _, o := range objs {
		if o.id() == "ConfigMap/sportello" {
			cm, _ = o["data"].(map[string]any)
		}
	}
	for _, o := range base {
		if o.id() == "ConfigMap/sportello" {
			baseCM, _ = o["data"].(map[string]any)
		}
	}
	for k, v := range cm {
		s := fmt.Sprint(v)
		if strings.HasSuffix(k, "_URL") && !strings.HasPrefix(s, "https://") {
			t.Errorf("ConfigMap sportello: %s=%q is not an https URL", k, s)
		}
		if (strings.HasSuffix(k, "_URL") || strings.HasSuffix(k, "_HOST")) && baseCM[k] == v {
			t.Errorf("ConfigMap sportello: %s keeps the base's example value %q (the production overlay sets the region's)", k, s)
		}
	}
	want := map[string]string{"SPORTELLO_LOG_FORMAT": "json", "SPORTELLO_SMTP_TLS": "starttls|tls"}
	for k, allowed := range want {
		if !slices.Contains(strings.Split(allowed, "|"), fmt.Sprint(cm[k])) {
			t.Errorf("ConfigMap sportello: %s=%v, want %s", k, cm[k], allowed)
		}
	}
	if cm["SPORTELLO_TRUSTED_PROXIES"] == nil {
		t.Errorf("ConfigMap sportello: SPORTELLO_TRUSTED_PROXIES unset: behind an ingress every login would count against the ingress's address")
	}
	for _, o := range objs {
		if o.kind() == "Secret" {
			t.Errorf("%s: production Secrets come from the secret store, not from the repository", o.id())
		}
	}
}

func walkStrings(v any, f func(string)) {
	switch x := v.(type) {
	case string:
		f(x)
	case map[string]any:
		for k, e := range x {
			f(k)
			walkStrings(e, f)
		}
	case object:
		walkStrings(map[string]any(x), f)
	case []any:
		for _, e := range x {
			walkStrings(e, f)
		}
	}
}

// mebibytes reads a Kubernetes (Mi, Gi) or GOMEMLIMIT (MiB, GiB) quantity.
func mebibytes(t tb, q string) int {
	t.Helper()
	for suffix, mult := range map[string]int{"GiB": 1024, "MiB": 1, "Gi": 1024, "Mi": 1} {
		if n, err := strconv.Atoi(strings.TrimSuffix(q, suffix)); err == nil && strings.HasSuffix(q, suffix) {
			return n * mult
		}
	}
	t.Fatalf("quantity %q: only Mi, Gi, MiB and GiB are used", q)
	return 0
}

func TestManifestsBase(t *testing.T) {
	base, err := kustomizeBuild(k8sBase)
	if err != nil {
		t.Fatal(err)
	}
	checkManifests(t, base, base, false)
	// The base's placeholder Secrets are refused by the binary: applied by
	// mistake, the base starts nothing against real services.
	for _, o := range base {
		if o.kind() != "Deployment" {
			continue
		}
		c := containersOf(o)[0]
		cmd := c["args"].([]any)[0].(string)
		if err := requireProduction(cmd, containerEnv(t, c, base, base).getenv); err == nil {
			t.Errorf("%s: the base's placeholders pass requireProduction", o.id())
		}
	}
}

func TestManifestsProduction(t *testing.T) {
	base, err := kustomizeBuild(k8sBase)
	if err != nil {
		t.Fatal(err)
	}
	prod, err := kustomizeBuild(k8sProduction)
	if err != nil {
		t.Fatal(err)
	}
	checkManifests(t, prod, base, true)
	for _, o := range prod {
		if ns, _ := o["metadata"].(map[string]any)["namespace"].(string); ns == "" {
			t.Errorf("%s has no namespace", o.id())
		}
	}
}

// tb is what the checks report to: a *testing.T, or errorList.
type tb interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
}

// errorList collects what the checks report (Fatalf ends the check).
type errorList struct{ msgs []string }

func (e *errorList) Helper() {}
func (e *errorList) Errorf(format string, args ...any) {
	e.msgs = append(e.msgs, fmt.Sprintf(format, args...))
}
func (e *errorList) Fatalf(format string, args ...any) { e.Errorf(format, args...); panic(e) }

func (e *errorList) run(f func()) {
	defer func() {
		if r := recover(); r != nil && r != e {
			panic(r)
		}
	}()
	f()
}

// The checks can fail: a production overlay that leaves a required
// setting out, gives a secret from the ConfigMap, listens on loopback or
// keeps a sandbox is caught.
func TestManifestChecksCatchMistakes(t *testing.T) {
	base, err := kustomizeBuild(k8sBase)
	if err != nil {
		t.Fatal(err)
	}
	prod, err := kustomizeBuild(k8sProduction)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range prod {
		switch o.id() {
		case "ConfigMap/sportello":
			data := o["data"].(map[string]any)
			delete(data, "SPORTELLO_ACCOUNTING_URL")
			data["SPORTELLO_PAYMENTS_SECRET"] = "a-secret-in-the-configmap-not-in-a-secret"
			data["SPORTELLO_HTTP_ADDR"] = "127.0.0.1:8080"
			data["SPORTELLO_PAYMENTS_URL"] = devPaymentsURL
		case "Deployment/sportello-worker":
			delete(containersOf(o)[0], "livenessProbe")
		}
	}
	var got errorList
	got.run(func() { checkManifests(&got, prod, base, true) })
	all := strings.Join(got.msgs, "\n")
	for _, want := range []string{
		"SPORTELLO_ACCOUNTING_URL (the municipalities' accounting system) is not given",
		"SPORTELLO_PAYMENTS_SECRET is a secret but is not given from a Secret",
		"SPORTELLO_HTTP_ADDR \"127.0.0.1:8080\" listens on 127.0.0.1 only",
		"keeps a development default or placeholder (\"" + devPaymentsURL + "\")",
		"Deployment/sportello-worker container worker: no liveness probe",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("the checks missed %q; they said:\n%s", want, all)
		}
	}
}
