// Package consumer proves that a service which adds this module with
// `go get` can build and run it: the module is packed the way a module
// proxy packs it (no symbolic links, no nested modules), served from a
// file-system GOPROXY, and the README's quick start is built from that zip
// and run.
package consumer

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const (
	modPath = "github.com/mcmgo/mcm"
	version = "v0.0.0-consumertest"
)

// quickStart is the README's Go quick start, as written there: the
// consumer program, so the README's code compiles and runs for a user.
func quickStart(t *testing.T, root string) (program, output string) {
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	require.NoError(t, err)
	_, rest, ok := strings.Cut(string(readme), "## Go quick start")
	require.True(t, ok, "README has a Go quick start")
	_, rest, ok = strings.Cut(rest, "```go\n")
	require.True(t, ok, "a Go block")
	program, rest, ok = strings.Cut(rest, "```\n")
	require.True(t, ok)
	require.True(t, strings.HasPrefix(program, "package main"), "a whole program")
	_, rest, ok = strings.Cut(rest, "It prints:\n\n```\n")
	require.True(t, ok, "followed by its output")
	output, _, ok = strings.Cut(rest, "```\n")
	require.True(t, ok)
	return program, output
}

func TestConsumerBuildsFromModuleZip(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the module from a zip")
	}
	root := repoRoot(t)
	proxy := t.TempDir()
	dir := filepath.Join(proxy, modPath, "@v")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, version+".mod"), gomod, 0o644))
	info, _ := json.Marshal(map[string]any{"Version": version, "Time": time.Now().UTC().Format(time.RFC3339)})
	require.NoError(t, os.WriteFile(filepath.Join(dir, version+".info"), info, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "list"), []byte(version+"\n"), 0o644))
	writeModuleZip(t, root, filepath.Join(dir, version+".zip"))

	app := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(app, "go.mod"),
		[]byte("module example.com/consumer\n\ngo 1.24.0\n\nrequire "+modPath+" "+version+"\n"), 0o644))
	program, want := quickStart(t, root)
	require.NoError(t, os.WriteFile(filepath.Join(app, "main.go"), []byte(program), 0o644))

	// Everything but our module comes from the local module cache, or the
	// configured proxy when the cache lacks it.
	cache := strings.TrimSpace(goEnv(t, "GOMODCACHE"))
	upstream := strings.TrimSpace(goEnv(t, "GOPROXY"))
	env := append(os.Environ(),
		"GOPROXY=file://"+proxy+",file://"+filepath.Join(cache, "cache", "download")+","+upstream,
		"GOMODCACHE="+filepath.Join(t.TempDir(), "modcache"),
		"GOFLAGS=-mod=mod -modcacherw", "GOSUMDB=off", "GOWORK=off", "CGO_ENABLED=1")
	bin := t.TempDir()
	run(t, app, env, "go", "build", "-o", filepath.Join(bin, "consumer"), ".")
	run(t, app, env, "go", "build", "-o", bin, modPath+"/cmd/mcm-send", modPath+"/cmd/mcm-recv")

	out := run(t, app, append(env, "TMPDIR="+t.TempDir()), filepath.Join(bin, "consumer")) // its socket lives there
	require.Equal(t, want, out, "the README's quick start prints what the README says")
	help := run(t, app, env, filepath.Join(bin, "mcm-send"), "--help")
	require.Contains(t, help, "mcm-send")
}

// writeModuleZip packs the files git tracks (or would track) the way a
// module proxy does: symbolic links and nested modules are left out.
func writeModuleZip(t *testing.T, root, dst string) {
	t.Helper()
	var files []string
	for _, args := range [][]string{{"ls-files", "-s"}, {"ls-files", "-o", "--exclude-standard"}} {
		out := run(t, root, nil, "git", args...)
		sc := bufio.NewScanner(strings.NewReader(out))
		for sc.Scan() {
			line := sc.Text()
			if args[1] == "-s" { // "mode sha stage\tpath"
				mode, path, _ := strings.Cut(line, " ")
				if mode == "120000" || mode == "160000" {
					continue // links and submodules never reach a module zip
				}
				_, path, _ = strings.Cut(path, "\t")
				line = path
			}
			files = append(files, line)
		}
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	nested := map[string]bool{}
	for _, f := range files {
		if d := filepath.Dir(f); filepath.Base(f) == "go.mod" && d != "." {
			nested[d] = true
		}
	}
	for _, f := range files {
		if inNested(f, nested) {
			continue
		}
		st, err := os.Lstat(filepath.Join(root, f))
		if os.IsNotExist(err) {
			continue // deleted in the work tree
		}
		require.NoError(t, err)
		if !st.Mode().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(root, f))
		require.NoError(t, err)
		w, err := zw.Create(modPath + "@" + version + "/" + filepath.ToSlash(f))
		require.NoError(t, err)
		_, err = w.Write(b)
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	require.NoError(t, os.WriteFile(dst, buf.Bytes(), 0o644))
}

func inNested(f string, nested map[string]bool) bool {
	for d := filepath.Dir(f); d != "." && d != "/"; d = filepath.Dir(d) {
		if nested[d] {
			return true
		}
	}
	return false
}

func repoRoot(t *testing.T) string {
	t.Helper()
	return strings.TrimSpace(run(t, ".", nil, "git", "rev-parse", "--show-toplevel"))
}

func goEnv(t *testing.T, name string) string {
	return run(t, ".", nil, "go", "env", name)
}

func run(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	require.NoError(t, err, "%s %s\n%s%s", name, strings.Join(args, " "), out.String(), errb.String())
	return out.String()
}
