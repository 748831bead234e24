package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"

	"github.com/mdvm-parquet/mdvm-parquet/schema"
	"github.com/mdvm-parquet/mdvm-parquet/schema/sample"
	"github.com/mdvm-parquet/mdvm-parquet/sink/azure/faulttest"
	"github.com/mdvm-parquet/mdvm-parquet/sink/azurite"
)

// The lake written to Azure Storage as a user writes it: the built binary
// converts to Azurite through each form of --output, through a proxy that
// injects faults, and is killed in the middle of its work. Each lake is
// downloaded and compared with the same conversion on local disk.

// azLake is a folder of a fresh Azurite container that a test writes a lake
// to.
type azLake struct {
	az        *azurite.Server
	container string
	prefix    string
}

func newAzLake(t *testing.T) azLake {
	t.Helper()
	az := azurite.Start(t)
	return azLake{az: az, container: az.NewContainer(t), prefix: "lakes/mdvm"}
}

// output returns the lake's --output in one of the three forms.
func (l azLake) output(form string) string {
	switch form {
	case "abfss":
		return fmt.Sprintf("abfss://%s@%s.dfs.core.windows.net/%s", l.container, azurite.AccountName, l.prefix)
	case "https":
		return fmt.Sprintf("https://%s.blob.core.windows.net/%s/%s", azurite.AccountName, l.container, l.prefix)
	}
	return fmt.Sprintf("az://%s/%s", l.container, l.prefix)
}

// credential returns the environment giving the binary a credential of a
// kind: "connection string" or "SAS token".
func (l azLake) credential(t *testing.T, kind string) []string {
	if kind == "SAS token" {
		return []string{"AZURE_STORAGE_SAS_TOKEN=" + l.az.ContainerSAS(t, l.container, time.Hour)}
	}
	return []string{"AZURE_STORAGE_CONNECTION_STRING=" + l.az.ConnectionString()}
}

// blobNames lists the blobs below the lake's folder and sub, by name
// relative to the folder.
func (l azLake) blobNames(t *testing.T, sub string) []string {
	t.Helper()
	pager := l.az.Client().NewListBlobsFlatPager(l.container, &azblob.ListBlobsFlatOptions{Prefix: to.Ptr(l.prefix + "/" + sub)})
	var names []string
	for pager.More() {
		page, err := pager.NextPage(context.Background())
		if err != nil {
			t.Fatalf("list %s/%s: %v", l.container, l.prefix, err)
		}
		for _, b := range page.Segment.BlobItems {
			names = append(names, strings.TrimPrefix(*b.Name, l.prefix+"/"))
		}
	}
	return names
}

// blobHashes returns the SHA-256 of every blob below sub, by relative name.
func (l azLake) blobHashes(t *testing.T, sub string) map[string]string {
	t.Helper()
	sums := map[string]string{}
	for _, n := range l.blobNames(t, sub) {
		h := sha256.Sum256(l.az.Download(t, l.container, l.prefix+"/"+n))
		sums[n] = hex.EncodeToString(h[:])
	}
	return sums
}

// download copies every blob of the lake into a new local folder, which a
// reader of local files can then read, and returns the folder.
func (l azLake) download(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, n := range l.blobNames(t, "") {
		p := filepath.Join(dir, filepath.FromSlash(n))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, l.az.Download(t, l.container, l.prefix+"/"+n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// runAzure runs the binary with env added to this process's environment,
// stripped of every MDVM_ and AZURE_ variable so that none leaks in.
func runAzure(t *testing.T, env []string, args ...string) result {
	t.Helper()
	cmd := azureCommand(env, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := result{stdout: stdout.String(), stderr: stderr.String()}
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("run %v: %v", args, err)
		}
		res.code = ee.ExitCode()
	}
	return res
}

func azureCommand(env []string, args ...string) *exec.Cmd {
	cmd := exec.Command(binary, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MDVM_") && !strings.HasPrefix(kv, "AZURE_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	return cmd
}

// genExport writes a generated export with many groups, and with rejects
// a file of records among which some lines are not JSON.
func genExport(t *testing.T, cfg sample.Config, rejects bool) string {
	t.Helper()
	dir := t.TempDir()
	cfg.Dataset = schema.HardwareFirmware
	if _, err := sample.Write(dir, cfg); err != nil {
		t.Fatal(err)
	}
	if rejects {
		recs := records(1, 20)
		recs[3], recs[11], recs[17] = `{"DeviceId": "cut`, "not json", `["an array"]`
		if err := os.WriteFile(filepath.Join(dir, "late.json.gz"), gz(lines(recs...)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// manyGroups is the generated export of the comparisons: a few thousand
// records over many groups, quirks included.
var manyGroups = sample.Config{Records: 2000, Files: 30, Groups: 24, Unassigned: true, Quirks: true, Seed: 4}

// oneBigGroup has, without compression, a partition file of two blocks
// (1 MiB each), so that it goes up as blocks rather than in one request.
var oneBigGroup = sample.Config{Records: 2500, Files: 2, Groups: 1, Seed: 5}

// runIDPattern matches the run IDs in the names of a lake's files.
var runIDPattern = regexp.MustCompile(`\d{8}T\d{6}Z-[0-9a-f]{6}`)

// lakeLayout lists the files of a local lake, relative and slash-separated,
// with run IDs replaced by RUN.
func lakeLayout(t *testing.T, lake string) []string {
	t.Helper()
	var names []string
	for name := range hashTree(t, lake) {
		names = append(names, runIDPattern.ReplaceAllString(name, "RUN"))
	}
	slices.Sort(names)
	return names
}

// normalManifest reads a snapshot's manifest without what differs from run
// to run: the run ID and the times.
func normalManifest(t *testing.T, lake string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(snapshotDir(lake, sample.DefaultGeneratedTime), "_manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "run_id")
	delete(m, "started")
	delete(m, "finished")
	out, _ := json.MarshalIndent(m, "", " ")
	return runIDPattern.ReplaceAllString(string(out), "RUN")
}

// assertSameLake fails unless two local lakes hold the same files, bar run
// IDs, the same manifest, rejects and rows.
func assertSameLake(t *testing.T, got, want string) {
	t.Helper()
	g, w := lakeLayout(t, got), lakeLayout(t, want)
	if !slices.Equal(g, w) {
		t.Fatalf("layout differs:\n got %q\nwant %q", g, w)
	}
	if normalManifest(t, got) != normalManifest(t, want) {
		t.Errorf("manifests differ:\n got %.2000s\nwant %.2000s", normalManifest(t, got), normalManifest(t, want))
	}
	if g, w := readRejects(t, got), readRejects(t, want); fmt.Sprint(g) != fmt.Sprint(w) {
		t.Errorf("rejects differ:\n got %.1000v\nwant %.1000v", g, w)
	}
	sameRows(t, got, want)
}

// sameRows fails unless DuckDB reads the same columns and the same rows,
// each as many times, in two local lakes.
func sameRows(t *testing.T, got, want string) {
	t.Helper()
	db := openDuckDB(t)
	src := func(lake string) string {
		return fmt.Sprintf("read_parquet('%s', hive_partitioning=true)", datasetGlob(lake))
	}
	describe := func(lake string) string {
		var cols []string
		for _, r := range queryDuckDB(t, db, "DESCRIBE SELECT * FROM "+src(lake)) {
			cols = append(cols, r["column_name"]+" "+r["column_type"])
		}
		return strings.Join(cols, ", ")
	}
	if g, w := describe(got), describe(want); g != w {
		t.Fatalf("columns differ:\n got %s\nwant %s", g, w)
	}
	counts := queryDuckDB(t, db, fmt.Sprintf(`SELECT
		(SELECT count(*) FROM %[1]s) AS got, (SELECT count(*) FROM %[2]s) AS want,
		(SELECT count(*) FROM (SELECT * FROM %[1]s EXCEPT ALL SELECT * FROM %[2]s)) AS extra,
		(SELECT count(*) FROM (SELECT * FROM %[2]s EXCEPT ALL SELECT * FROM %[1]s)) AS missing`, src(got), src(want)))[0]
	if counts["got"] == "0" || counts["got"] != counts["want"] || counts["extra"] != "0" || counts["missing"] != "0" {
		diff := queryDuckDB(t, db, fmt.Sprintf("SELECT * FROM %s EXCEPT ALL SELECT * FROM %s LIMIT 2", src(got), src(want)))
		t.Fatalf("rows differ: %v; rows only in %s: %.1000v", counts, got, diff)
	}
}

// assertNoAzureSecrets fails when text shows a secret.
func assertNoAzureSecrets(t *testing.T, text string, secrets ...string) {
	t.Helper()
	for _, s := range append(secrets, azurite.AccountKey) {
		if strings.Contains(text, s) || strings.Contains(text, url.QueryEscape(s)) {
			t.Errorf("the output shows the secret %.6s…", s)
		}
	}
	for _, m := range sigValue.FindAllString(text, -1) {
		if !strings.HasSuffix(m, "REDACTED") {
			t.Errorf("the output shows a signature: %s", m)
		}
	}
}

func TestConvertToAzure(t *testing.T) {
	exports := []struct {
		name string
		dir  string
		args []string
	}{
		{"sample", sampleExport, nil},
		{"generated", genExport(t, manyGroups, true), []string{"--max-rejected", "10"}},
	}
	// Each form once with each kind of credential; the endpoint by flag or
	// by the environment.
	runs := []struct{ form, credential, endpointBy string }{
		{"az", "connection string", "flag"},
		{"abfss", "SAS token", "flag"},
		{"https", "connection string", "env"},
		{"az", "SAS token", "env"},
		{"abfss", "connection string", "flag"},
		{"https", "SAS token", "flag"},
	}
	for i, ex := range exports {
		local := filepath.Join(t.TempDir(), "lake")
		convertOK(t, nil, append([]string{"--output", local}, append(ex.args, ex.dir)...)...)
		if ex.name == "generated" && len(readRejects(t, local)) != 3 {
			t.Fatalf("the generated export gives %d rejects, want 3", len(readRejects(t, local)))
		}
		for _, r := range runs[3*i : 3*i+3] {
			t.Run(ex.name+"/"+r.form+"/"+strings.ReplaceAll(r.credential, " ", "_"), func(t *testing.T) {
				t.Parallel()
				lake := newAzLake(t)
				env := lake.credential(t, r.credential)
				args := []string{"convert", "--output", lake.output(r.form)}
				if r.endpointBy == "env" {
					env = append(env, "MDVM_STORAGE_ENDPOINT="+lake.az.Endpoint)
				} else {
					args = append(args, "--storage-endpoint", lake.az.Endpoint)
				}
				res := runAzure(t, env, append(append(args, ex.args...), ex.dir)...)
				if res.code != 0 || !strings.Contains(res.stdout, "az://"+lake.container+"/"+lake.prefix+"/: published") {
					t.Fatalf("convert to %s: %v", lake.output(r.form), res)
				}
				_, secret, _ := strings.Cut(env[0], "=")
				assertNoAzureSecrets(t, res.stdout+res.stderr, secret)

				got := lake.download(t)
				assertSameLake(t, got, local)
			})
		}
	}
}

// faultProxy is a fault-injecting proxy in front of Azurite. With hint, its
// 5xx answers carry x-ms-retry-after-ms, which the client honours in place
// of its own backoff of a second and more: a burst then costs milliseconds.
func faultProxy(t *testing.T, az *azurite.Server, hint bool) (*faulttest.Proxy, string) {
	t.Helper()
	p := faulttest.New(t, az.Endpoint)
	if !hint {
		return p, p.URL + "/" + azurite.AccountName
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.ServeHTTP(hintWriter{w}, r)
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return p, "http://" + l.Addr().String() + "/" + azurite.AccountName
}

// hintWriter adds a short retry hint to the 5xx answers written through it.
type hintWriter struct{ http.ResponseWriter }

func (h hintWriter) WriteHeader(code int) {
	if code >= 500 {
		h.Header().Set("x-ms-retry-after-ms", "20")
	}
	h.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection, to cut it.
func (h hintWriter) Unwrap() http.ResponseWriter { return h.ResponseWriter }

// Matchers of the requests a publish makes.
func copyBlob(r *http.Request) bool {
	return r.Method == http.MethodPut && r.Header.Get("x-ms-copy-source") != ""
}

func deleteBlob(r *http.Request) bool { return r.Method == http.MethodDelete }

func bigPutBlob(r *http.Request) bool { return faulttest.PutBlob(r) && r.ContentLength > 16<<10 }

func TestConvertToAzureThroughFaults(t *testing.T) {
	exports := map[string]string{"many groups": genExport(t, manyGroups, false), "one big group": genExport(t, oneBigGroup, false)}
	locals := map[string]string{}
	for name, dir := range exports {
		locals[name] = filepath.Join(t.TempDir(), "lake")
		convertOK(t, nil, "--output", locals[name], "--compression", "none", dir)
	}
	busy := func(match func(*http.Request) bool, times int) faulttest.Fault {
		return faulttest.Fault{Match: match, Times: times, Status: http.StatusServiceUnavailable, Code: "ServerBusy"}
	}
	cases := []struct {
		name   string
		export string
		hint   bool
		faults []faulttest.Fault
	}{
		{"503 burst on block uploads", "one big group", true, []faulttest.Fault{busy(faulttest.PutBlock, 5), busy(faulttest.PutBlockList, 2)}},
		{"503 bursts on uploads, copies and deletes", "many groups", true, []faulttest.Fault{
			busy(faulttest.PutBlob, 5), busy(copyBlob, 4), busy(deleteBlob, 3),
			{Match: copyBlob, Times: 2, Status: http.StatusInternalServerError, Code: "InternalError"},
		}},
		{"503 with the client's own backoff", "many groups", false, []faulttest.Fault{busy(faulttest.PutBlob, 1)}},
		{"block upload cut", "one big group", false, []faulttest.Fault{{Match: faulttest.PutBlock, Times: 1, CutRequestAfter: 200 << 10}}},
		{"upload cut", "many groups", false, []faulttest.Fault{{Match: bigPutBlob, Times: 1, CutRequestAfter: 8 << 10}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			lake := newAzLake(t)
			proxy, endpoint := faultProxy(t, lake.az, c.hint)
			want := 0
			for _, f := range c.faults {
				proxy.Inject(f)
				want += f.Times
			}
			res := runAzure(t, lake.credential(t, "connection string"),
				"convert", "--output", lake.output("az"), "--storage-endpoint", endpoint, "--compression", "none", exports[c.export])
			if res.code != 0 {
				t.Fatalf("convert through faults: %v", res)
			}
			if proxy.Served() != want {
				t.Errorf("%d faults injected, want %d", proxy.Served(), want)
			}
			assertSameLake(t, lake.download(t), locals[c.export])
			if names := lake.blobNames(t, "_"); slices.ContainsFunc(names, isLeftover) {
				t.Errorf("left behind: %q", names)
			}
		})
	}
}

// isLeftover reports whether a blob is staging or journal of a run.
func isLeftover(name string) bool {
	return strings.HasPrefix(name, "_staging/") || strings.HasPrefix(name, "_journal/")
}

func TestConvertToAzureRefusedCredential(t *testing.T) {
	lake := newAzLake(t)
	wrongKey := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("wrong key "), 6))
	goodSAS := lake.az.ContainerSAS(t, lake.container, time.Hour)
	q, _ := url.ParseQuery(goodSAS)
	forged := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xA5}, 32))
	q.Set("sig", forged)
	other := lake.az.NewContainer(t)
	otherSAS := lake.az.ContainerSAS(t, other, time.Hour)
	otherSig, _ := url.ParseQuery(otherSAS)

	cases := []struct {
		name, kind string
		env        []string
		secrets    []string
	}{
		{"wrong account key", "connection string", []string{"AZURE_STORAGE_CONNECTION_STRING=" +
			strings.Replace(lake.az.ConnectionString(), azurite.AccountKey, wrongKey, 1)}, []string{wrongKey}},
		{"forged SAS signature", "SAS token", []string{"AZURE_STORAGE_SAS_TOKEN=" + q.Encode()}, []string{forged, goodSAS}},
		{"SAS of another container", "SAS token", []string{"AZURE_STORAGE_SAS_TOKEN=" + otherSAS}, []string{otherSig.Get("sig")}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			proxy, endpoint := faultProxy(t, lake.az, false)
			sumPath := filepath.Join(t.TempDir(), "summary.json")
			start := time.Now()
			res := runAzure(t, c.env, "--log-level", "debug", "--log-format", "json", "convert",
				"--output", lake.output("az"), "--storage-endpoint", endpoint, "--summary-json", sumPath, sampleExport)
			took := time.Since(start)
			if res.code != exitFailed {
				t.Fatalf("want exit %d: %v", exitFailed, res)
			}
			// At once: the first request is refused and none follows.
			if proxy.Seen() != 1 || took > 5*time.Second {
				t.Errorf("%d requests in %s; want the first refusal to end the run", proxy.Seen(), took)
			}
			last := res.lastLine()
			if !strings.HasPrefix(last, "mdvm-parquet: ") || !strings.Contains(last, "storage refused the credential") ||
				!strings.Contains(last, "("+c.kind+";") || !strings.Contains(last, "HTTP 403") {
				t.Errorf("error line %q does not name the refusal of the %s", last, c.kind)
			}
			summary, _ := os.ReadFile(sumPath)
			assertNoAzureSecrets(t, res.stdout+res.stderr+string(summary), c.secrets...)

			quiet := runAzure(t, c.env, "--quiet", "convert", "--output", lake.output("az"), "--storage-endpoint", endpoint, sampleExport)
			if quiet.code != exitFailed || quiet.stdout != "" {
				t.Errorf("quiet: %v", quiet)
			}
			assertOneLine(t, quiet)
			assertNoAzureSecrets(t, quiet.stderr, c.secrets...)
		})
	}
	if names := lake.blobNames(t, ""); len(names) != 0 {
		t.Errorf("refused runs wrote %q", names)
	}
}

// killPoint is a request at which the binary is killed: the n-th request
// that match accepts.
type killPoint struct {
	name  string
	n     int
	match func(r *http.Request, oldRun string) bool
	phase string // the journal's phase after the kill; "" for none
	log   string // what the rerun says it does with the journal
}

var killPoints = []killPoint{
	{"converting", 1, func(r *http.Request, _ string) bool {
		return r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/_staging/")
	}, "", ""},
	{"moving new files in", 3, func(r *http.Request, _ string) bool {
		return copyBlob(r)
	}, "moving", "undoing the publish of an interrupted run"},
	{"removing old files", 1, func(r *http.Request, oldRun string) bool {
		return r.Method == http.MethodDelete && strings.Contains(r.URL.Path, oldRun) && !strings.Contains(r.URL.Path, "/_staging/")
	}, "replacing", "finishing the publish of an interrupted run"},
}

// TestConvertToAzureKilled kills the binary with SIGKILL while it replaces
// a published snapshot, at points of its conversion and of its publish,
// checks what readers can see, and reruns it.
func TestConvertToAzureKilled(t *testing.T) {
	cfg := sample.Config{Records: 1000, Files: 12, Groups: 12, Unassigned: true, Seed: 6}
	first := genExport(t, cfg, false)
	cfg.Seed = 7
	second := genExport(t, cfg, false)
	local := filepath.Join(t.TempDir(), "lake")
	convertOK(t, nil, "--output", local, second)
	newFiles := len(parquetFiles(t, local))

	for _, kp := range killPoints {
		t.Run(kp.name, func(t *testing.T) {
			t.Parallel()
			lake := newAzLake(t)
			env := lake.credential(t, "connection string")
			direct := []string{"convert", "--output", lake.output("az"), "--storage-endpoint", lake.az.Endpoint}
			if res := runAzure(t, env, append(direct, first)...); res.code != 0 {
				t.Fatalf("first run: %v", res)
			}
			date := path.Join(dataset, "snapshot_date="+sample.DefaultGeneratedTime.Format(time.DateOnly)) + "/"
			before := lake.blobHashes(t, date)
			var m manifest
			json.Unmarshal(lake.az.Download(t, lake.container, lake.prefix+"/"+date+"_manifest.json"), &m)

			killAt(t, lake, env, kp, m.RunID, second)
			checkAfterKill(t, lake, kp, date, before, newFiles)

			res := runAzure(t, env, append(direct, second)...)
			if res.code != 0 {
				t.Fatalf("rerun: %v", res)
			}
			if kp.log != "" && !strings.Contains(res.stderr, kp.log) {
				t.Errorf("the rerun does not say %q:\n%s", kp.log, res.stderr)
			}
			if names := lake.blobNames(t, "_"); slices.ContainsFunc(names, isLeftover) {
				t.Errorf("left behind: %q", names)
			}
			got := lake.download(t)
			assertSameLake(t, got, local)
			want := fmt.Sprintf("%d rows, %d distinct", cfg.Records, cfg.Records)
			if c := countsByDate(t, got); len(c) != 1 || c["2026-11-30"] != want {
				t.Errorf("rows by date %v, want %s", c, want)
			}
		})
	}
}

// killAt runs a conversion of export through a proxy that kills it with
// SIGKILL at kp: the request is answered 503 and never reaches storage.
func killAt(t *testing.T, lake azLake, env []string, kp killPoint, oldRun, export string) {
	t.Helper()
	proxy, endpoint := faultProxy(t, lake.az, false)
	cmd := azureCommand(env, "convert", "--output", lake.output("az"), "--storage-endpoint", endpoint, export)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out

	var pid atomic.Int64
	var seen int
	var once sync.Once
	proxy.Inject(faulttest.Fault{Times: 1, Status: http.StatusServiceUnavailable, Code: "ServerBusy",
		Match: func(r *http.Request) bool {
			if !kp.match(r, oldRun) {
				return false
			}
			seen++ // the proxy calls Match under its lock
			if seen < kp.n {
				return false
			}
			once.Do(func() { syscall.Kill(int(pid.Load()), syscall.SIGKILL) })
			return true
		}})
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid.Store(int64(cmd.Process.Pid))
	err := cmd.Wait()
	// Requests the run sent before it died may still be on their way to
	// storage, and the emulator may act on one after answering it: wait
	// until the container stops changing before looking.
	proxy.Close()
	lake.settle(t)
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("the run was not killed at %s (%v):\n%s", kp.name, err, out.String())
	}
}

// settle waits until two listings of the lake a moment apart agree.
func (l azLake) settle(t *testing.T) {
	t.Helper()
	prev := strings.Join(l.blobNames(t, ""), "\n")
	for range 25 {
		time.Sleep(200 * time.Millisecond)
		cur := strings.Join(l.blobNames(t, ""), "\n")
		if cur == prev {
			return
		}
		prev = cur
	}
}

// checkAfterKill checks what a reader sees of the date folder after a kill
// at kp: every object whole, and the previous snapshot intact until the
// publish starts removing it.
func checkAfterKill(t *testing.T, lake azLake, kp killPoint, date string, before map[string]string, newFiles int) {
	t.Helper()
	after := lake.blobHashes(t, date)
	journals := lake.blobNames(t, "_journal/")
	if kp.phase == "" {
		if len(journals) != 0 {
			t.Errorf("killed while converting, yet a journal exists: %q", journals)
		}
		assertSameTree(t, date, before, after)
	} else {
		if len(journals) != 1 {
			t.Fatalf("killed in the publish, want one journal, have %q", journals)
		}
		var j struct{ Phase string }
		json.Unmarshal(lake.az.Download(t, lake.container, lake.prefix+"/"+journals[0]), &j)
		if j.Phase != kp.phase {
			t.Errorf("journal phase %q, want %q", j.Phase, kp.phase)
		}
		if _, ok := after[date+"_SUCCESS"]; ok {
			t.Errorf("%s_SUCCESS stands while the date is in flux", date)
		}
		var added int
		// Once replacing, old files go, several at a time: any of them may
		// be gone, but none may have changed.
		for name, sum := range before {
			got, ok := after[name]
			mayGo := name == date+"_SUCCESS" || kp.phase == "replacing"
			if ok && got != sum || !ok && !mayGo {
				t.Errorf("%s of the previous snapshot is gone or changed", name)
			}
		}
		for name := range after {
			if _, ok := before[name]; !ok {
				added++
			}
		}
		if kp.phase == "moving" && (added == 0 || added >= newFiles) {
			t.Errorf("%d of %d new files moved in, want some", added, newFiles)
		}
		if kp.phase == "replacing" && added != newFiles {
			t.Errorf("%d of %d new files moved in, want all", added, newFiles)
		}
	}

	// Every object a reader can list is whole: DuckDB reads them all.
	dir := lake.download(t)
	db := openDuckDB(t)
	for _, p := range parquetGlob(t, dir) {
		if _, err := db.Exec(fmt.Sprintf("SELECT count(*) FROM read_parquet('%s')", filepath.ToSlash(p))); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
}

// parquetGlob lists every Parquet file below dir, staged ones included.
func parquetGlob(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	for name := range hashTree(t, dir) {
		if strings.HasSuffix(name, ".parquet") {
			files = append(files, filepath.Join(dir, filepath.FromSlash(name)))
		}
	}
	if len(files) == 0 {
		t.Fatalf("no Parquet file in %s", dir)
	}
	return files
}

// TestExportToAzure publishes an export from the fake API into Azurite
// through --storage-endpoint. The connection string names an endpoint that
// refuses every request: only the flag leads to the lake.
func TestExportToAzure(t *testing.T) {
	ft := newFakeTenant(t)
	lake := newAzLake(t)
	refusing := faulttest.New(t, lake.az.Endpoint)
	refusing.Inject(faulttest.Fault{Times: 1 << 30, Status: http.StatusForbidden, Code: "AuthenticationFailed"})
	t.Setenv("AZURE_STORAGE_CONNECTION_STRING", strings.Replace(lake.az.ConnectionString(),
		lake.az.Endpoint, refusing.URL+"/"+azurite.AccountName, 1))

	res := runExport(t, ft, "export", "--allow-http", "--output", lake.output("abfss"),
		"--storage-endpoint", lake.az.Endpoint, "--max-rejected", "1000")
	if res.code != 0 {
		t.Fatalf("export to %s: %v", lake.output("abfss"), res)
	}
	local := filepath.Join(t.TempDir(), "lake")
	if res := runExport(t, ft, "convert", "--output", local, "--max-rejected", "1000", ft.dir); res.code != 0 {
		t.Fatalf("convert of the files on disk: %v", res)
	}
	got := lake.download(t)
	if g, w := lakeLayout(t, got), lakeLayout(t, local); !slices.Equal(g, w) {
		t.Errorf("layout differs:\n got %q\nwant %q", g, w)
	}
	sameRows(t, got, local)
	assertNoSecrets(t, ft, res.stdout+res.stderr)
}

func TestHelpNamesAzureOutputs(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"convert", "--help"}, {"export", "--help"}} {
		res := runCLI(t, nil, args...)
		for _, want := range []string{"abfss://CONTAINER@ACCOUNT.dfs.core.windows.net/PATH", "az://",
			"https://ACCOUNT.blob.core.windows.net/CONTAINER/PATH", "--storage-endpoint"} {
			if !strings.Contains(res.stdout, want) {
				t.Errorf("%v does not show %s", args, want)
			}
		}
	}
	res := runCLI(t, nil, "--help")
	order := []string{"AZURE_STORAGE_CONNECTION_STRING", "AZURE_STORAGE_SAS_TOKEN", "Entra ID default chain"}
	for i := 1; i < len(order); i++ {
		if a, b := strings.Index(res.stdout, order[i-1]), strings.Index(res.stdout, order[i]); a < 0 || b < a {
			t.Errorf("--help does not name %s before %s", order[i-1], order[i])
		}
	}
}
