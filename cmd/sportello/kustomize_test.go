package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The subset of kustomize that deploy/k8s uses, so that the tests check
// what an overlay produces and not only the base: resources (files and
// folders with a kustomization.yaml), namespace, images and patches of
// files (strategic merge: maps merged key by key, lists of named items
// merged by name, other lists replaced; "$patch: delete" removes the
// object). A kustomization that uses anything else fails the test, so that
// this reading cannot silently drift from kustomize's. (The output was
// compared with `kubectl kustomize` v5.5.0 when this was written.)

// object is one Kubernetes object as decoded YAML.
type object map[string]any

func (o object) kind() string { s, _ := o["kind"].(string); return s }

func (o object) name() string {
	m, _ := o["metadata"].(map[string]any)
	s, _ := m["name"].(string)
	return s
}

func (o object) id() string { return o.kind() + "/" + o.name() }

// kustomizeBuild builds the kustomization in dir.
func kustomizeBuild(dir string) ([]object, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		return nil, err
	}
	var k struct {
		APIVersion string   `yaml:"apiVersion"`
		Kind       string   `yaml:"kind"`
		Namespace  string   `yaml:"namespace"`
		Resources  []string `yaml:"resources"`
		Images     []struct {
			Name    string `yaml:"name"`
			NewName string `yaml:"newName"`
			NewTag  string `yaml:"newTag"`
		} `yaml:"images"`
		Patches []struct {
			Path string `yaml:"path"`
		} `yaml:"patches"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true) // a field this reading does not implement fails
	if err := dec.Decode(&k); err != nil {
		return nil, fmt.Errorf("%s/kustomization.yaml: %w (only resources, namespace, images and patches by path are understood)", dir, err)
	}
	if k.Kind != "Kustomization" {
		return nil, fmt.Errorf("%s/kustomization.yaml: kind %q", dir, k.Kind)
	}
	var objs []object
	for _, r := range k.Resources {
		p := filepath.Join(dir, r)
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		var more []object
		if st.IsDir() {
			more, err = kustomizeBuild(p)
		} else {
			more, err = readObjects(p)
		}
		if err != nil {
			return nil, err
		}
		objs = append(objs, more...)
	}
	for _, p := range k.Patches {
		if p.Path == "" {
			return nil, fmt.Errorf("%s: a patch without a path", dir)
		}
		patches, err := readObjects(filepath.Join(dir, p.Path))
		if err != nil {
			return nil, err
		}
		for _, patch := range patches {
			i := slices.IndexFunc(objs, func(o object) bool { return o.id() == patch.id() })
			if i < 0 {
				return nil, fmt.Errorf("%s: patch %s matches no object", p.Path, patch.id())
			}
			if patch["$patch"] == "delete" {
				objs = slices.Delete(objs, i, i+1)
				continue
			}
			objs[i] = object(mergeMaps(objs[i], patch))
		}
	}
	for _, img := range k.Images {
		for _, o := range objs {
			for _, c := range containersOf(o) {
				name, _, _ := strings.Cut(c["image"].(string), ":")
				if name != img.Name {
					continue
				}
				if img.NewName != "" {
					name = img.NewName
				}
				c["image"] = name + ":" + img.NewTag
			}
		}
	}
	if k.Namespace != "" {
		for _, o := range objs {
			o["metadata"].(map[string]any)["namespace"] = k.Namespace
		}
	}
	return objs, nil
}

// readObjects reads every YAML document of a file.
func readObjects(path string) ([]object, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	var out []object
	for {
		var o map[string]any
		err := dec.Decode(&o)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if o == nil {
			continue
		}
		if object(o).kind() == "" || object(o).name() == "" {
			return nil, fmt.Errorf("%s: an object without kind or metadata.name", path)
		}
		out = append(out, o)
	}
}

// mergeMaps merges patch into dst (strategic merge as used here).
func mergeMaps(dst, patch map[string]any) map[string]any {
	out := make(map[string]any, len(dst))
	for k, v := range dst {
		out[k] = v
	}
	for k, pv := range patch {
		dv, ok := out[k]
		if !ok {
			out[k] = pv
			continue
		}
		switch p := pv.(type) {
		case map[string]any:
			if d, ok := dv.(map[string]any); ok {
				out[k] = mergeMaps(d, p)
				continue
			}
		case []any:
			if d, ok := dv.([]any); ok && named(d) && named(p) {
				out[k] = mergeNamed(d, p)
				continue
			}
		}
		out[k] = pv
	}
	return out
}

// named reports whether every item of l is a map with a name.
func named(l []any) bool {
	for _, v := range l {
		m, ok := v.(map[string]any)
		if !ok {
			return false
		}
		if _, ok := m["name"].(string); !ok {
			return false
		}
	}
	return len(l) > 0
}

func mergeNamed(dst, patch []any) []any {
	out := slices.Clone(dst)
	for _, pv := range patch {
		p := pv.(map[string]any)
		i := slices.IndexFunc(out, func(v any) bool { return v.(map[string]any)["name"] == p["name"] })
		if i < 0 {
			out = append(out, p)
			continue
		}
		out[i] = mergeMaps(out[i].(map[string]any), p)
	}
	return out
}

// podSpec is the pod template's spec of a Deployment or a Job.
func podSpec(o object) map[string]any {
	if o.kind() != "Deployment" && o.kind() != "Job" {
		return nil
	}
	spec, _ := o["spec"].(map[string]any)
	tmpl, _ := spec["template"].(map[string]any)
	ps, _ := tmpl["spec"].(map[string]any)
	return ps
}

// containersOf lists the containers (and init containers) of o's pods.
func containersOf(o object) []map[string]any {
	ps := podSpec(o)
	var out []map[string]any
	for _, key := range []string{"initContainers", "containers"} {
		l, _ := ps[key].([]any)
		for _, c := range l {
			out = append(out, c.(map[string]any))
		}
	}
	return out
}

// TestKustomizeSubset pins the merge rules on a small example.
func TestKustomizeSubset(t *testing.T) {
	base := map[string]any{"spec": map[string]any{"replicas": 2, "template": map[string]any{"spec": map[string]any{
		"containers": []any{map[string]any{"name": "api", "image": "a:1", "args": []any{"api"}}}}}}}
	patch := map[string]any{"spec": map[string]any{"replicas": 3, "template": map[string]any{"spec": map[string]any{
		"containers": []any{map[string]any{"name": "api", "args": []any{"worker"}}, map[string]any{"name": "side", "image": "b:1"}}}}}}
	got := mergeMaps(base, patch)
	spec := got["spec"].(map[string]any)
	cs := spec["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)
	api := cs[0].(map[string]any)
	if spec["replicas"] != 3 || len(cs) != 2 || api["image"] != "a:1" || api["args"].([]any)[0] != "worker" {
		t.Fatalf("merged %v", got)
	}
	if base["spec"].(map[string]any)["replicas"] != 2 {
		t.Fatal("the merge changed its input")
	}
}
