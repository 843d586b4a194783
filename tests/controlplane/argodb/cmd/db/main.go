// Command db drives Argo's own archive code (persist/sqldb) against a PostgreSQL DSN, without
// Kubernetes: `migrate` runs Argo's real schema migrations, `fake-archived-workflows` writes
// realistic archived workflows through Argo's real archive writer (for schema tests and benchmarks).
//
// It mirrors the command line of Argo's hack/db, which cannot be used as is at v4.0.5: that main
// runs its commands without a logger in the context and Argo's sqldb code panics
// ("logger not found in context").
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"strings"
	"time"

	"github.com/upper/db/v4"
	"github.com/upper/db/v4/adapter/postgresql"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/uuid"

	"github.com/argoproj/argo-workflows/v4/persist/sqldb"
	wfv1 "github.com/argoproj/argo-workflows/v4/pkg/apis/workflow/v1alpha1"
	"github.com/argoproj/argo-workflows/v4/util/instanceid"
	"github.com/argoproj/argo-workflows/v4/util/logging"
)

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func usage() {
	fmt.Fprintln(os.Stderr, `usage: db [--dsn postgres://...] migrate [--cluster NAME] [--table NAME]
       db [--dsn postgres://...] fake-archived-workflows --template @FILE [--rows N] [--seed N]
          [-c CLUSTER]... [-n NAMESPACE]...`)
	os.Exit(2)
}

func main() {
	global := flag.NewFlagSet("db", flag.ExitOnError)
	dsn := global.String("dsn", "postgres://postgres@localhost:5432/postgres", "PostgreSQL DSN (postgres:// URL)")
	global.StringVar(dsn, "d", *dsn, "shorthand for --dsn")
	_ = global.Parse(os.Args[1:])
	if global.NArg() == 0 {
		usage()
	}
	ctx := logging.WithLogger(context.Background(), logging.NewSlogLogger(logging.Info, logging.Text))
	url, err := postgresql.ParseURL(*dsn)
	if err != nil {
		fail(fmt.Errorf("--dsn: %w", err))
	}
	session, err := postgresql.Open(url)
	if err != nil {
		fail(err)
	}
	defer session.Close()

	args := global.Args()
	switch args[0] {
	case "migrate":
		cmd := flag.NewFlagSet("migrate", flag.ExitOnError)
		cluster := cmd.String("cluster", "default", "cluster name")
		table := cmd.String("table", "argo_workflows", "node-status offload table name")
		_ = cmd.Parse(args[1:])
		fail(sqldb.Migrate(ctx, session, *cluster, *table))
	case "fake-archived-workflows":
		cmd := flag.NewFlagSet("fake-archived-workflows", flag.ExitOnError)
		template := cmd.String("template", "", "workflow to copy, as @FILE (YAML or JSON)")
		rows := cmd.Int("rows", 10, "rows to insert")
		seed := cmd.Int64("seed", time.Now().UnixNano(), "random seed")
		var clusters, namespaces listFlag
		cmd.Var(&clusters, "c", "cluster name (repeatable; each row picks one at random)")
		cmd.Var(&clusters, "clusters", "same as -c")
		cmd.Var(&namespaces, "n", "namespace (repeatable; each row picks one at random)")
		cmd.Var(&namespaces, "namespaces", "same as -n")
		_ = cmd.Parse(args[1:])
		if *template == "" {
			fail(fmt.Errorf("--template @FILE is required"))
		}
		fail(fakeArchived(ctx, session, wfv1.MustUnmarshalWorkflow(*template), *rows, *seed,
			orDefault(clusters, "default"), orDefault(namespaces, "argo")))
	default:
		usage()
	}
}

func orDefault(values listFlag, fallback string) []string {
	if len(values) == 0 {
		return []string{fallback}
	}
	return values
}

// fakeArchived archives copies of base with random names, namespaces, phases and times.
func fakeArchived(ctx context.Context, sess db.Session, base *wfv1.Workflow, rows int, seed int64,
	clusters, namespaces []string) error {
	rng := rand.New(rand.NewSource(seed))
	phases := []wfv1.WorkflowPhase{wfv1.WorkflowSucceeded, wfv1.WorkflowFailed, wfv1.WorkflowError}
	archives := map[string]sqldb.WorkflowArchive{}
	for _, cluster := range clusters {
		archives[cluster] = sqldb.NewWorkflowArchive(sess, cluster, "", instanceid.NewService(""))
	}
	now := time.Now().Unix()
	fmt.Printf("seed %d, clusters %v, namespaces %v\n", seed, clusters, namespaces)
	for i := 0; i < rows; i++ {
		wf := base.DeepCopy()
		wf.Name = fmt.Sprintf("fake-%08x-%d", rng.Uint32(), i)
		wf.Namespace = namespaces[rng.Intn(len(namespaces))]
		wf.UID = types.UID(uuid.NewUUID())
		wf.Status.Phase = phases[rng.Intn(len(phases))]
		started := time.Unix(now-rng.Int63n(365*24*3600), 0)
		wf.Status.StartedAt = metav1.NewTime(started)
		wf.Status.FinishedAt = metav1.NewTime(started.Add(time.Duration(5+rng.Intn(300)) * time.Second))
		if wf.Labels == nil {
			wf.Labels = map[string]string{}
		}
		wf.Labels["workflows.argoproj.io/phase"] = string(wf.Status.Phase)
		if err := archives[clusters[rng.Intn(len(clusters))]].ArchiveWorkflow(ctx, wf); err != nil {
			return err
		}
	}
	fmt.Printf("Inserted %d rows\n", rows)
	return nil
}

func fail(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "db:", err)
		os.Exit(1)
	}
}
