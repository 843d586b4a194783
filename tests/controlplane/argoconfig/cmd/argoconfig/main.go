// Command argoconfig reads workflow-controller ConfigMaps exactly as Argo's v4.0.5 workflow-controller
// does and prints what it made of each one: the values the controller would use, or the error it
// would exit with. It is the oracle of the collection's persistence_config model (tests/integration).
//
// Protocol: one JSON request per stdin line, {"id": "...", "data": {ConfigMap data}}; one JSON answer
// per stdout line, in order, flushed after each, so one process serves a whole test session.
//
// What runs is Argo's own code, in the controller's order:
//   - config.NewController(...).Get: the ConfigMap layout rules and sigs.k8s.io/yaml UnmarshalStrict
//     into config.Config (the controller's UpdateConfig; an error there is fatal);
//   - from WorkflowController.updateConfig: yaml.Marshal of the config, persist.GetTableName, and,
//     with archive on, PersistConfig.GetArchiveLabelSelector (each error is fatal).
//
// Not run (they need a database or Secrets): CreateDBSession and the schema migration. The answer
// carries what they would be given (database, table and cluster name, Secret references), and the
// tests exercise them against the real PostgreSQL.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	apiv1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/argoproj/argo-workflows/v4/config"
	persist "github.com/argoproj/argo-workflows/v4/persist/sqldb"
)

// The controller only ever calls CoreV1().ConfigMaps(ns).Get(name): serve that one object. Every
// other method is the nil embedded interface and would panic, which would show here as a crash.
type clientset struct {
	kubernetes.Interface
	cm *apiv1.ConfigMap
}

type coreV1 struct {
	corev1client.CoreV1Interface
	cm *apiv1.ConfigMap
}

type configMaps struct {
	corev1client.ConfigMapInterface
	cm *apiv1.ConfigMap
}

func (c clientset) CoreV1() corev1client.CoreV1Interface           { return coreV1{cm: c.cm} }
func (c coreV1) ConfigMaps(string) corev1client.ConfigMapInterface { return configMaps{cm: c.cm} }
func (c configMaps) Get(context.Context, string, metav1.GetOptions) (*apiv1.ConfigMap, error) {
	return c.cm, nil
}

type request struct {
	ID   string            `json:"id"`
	Data map[string]string `json:"data"`
}

type secretRef struct {
	Name     string `json:"name"`
	Key      string `json:"key"`
	Optional *bool  `json:"optional"`
}

type database struct {
	Host           string            `json:"host"`
	Port           int               `json:"port"`
	Database       string            `json:"database"`
	TableName      string            `json:"tableName"`
	UserNameSecret secretRef         `json:"userNameSecret"`
	PasswordSecret secretRef         `json:"passwordSecret"`
	SSL            bool              `json:"ssl"`
	SSLMode        string            `json:"sslMode"`
	Options        map[string]string `json:"options"`
}

type pool struct {
	MaxIdleConns    int   `json:"maxIdleConns"`
	MaxOpenConns    int   `json:"maxOpenConns"`
	ConnMaxLifetime int64 `json:"connMaxLifetimeNanos"`
}

type persistence struct {
	Archive              bool                  `json:"archive"`
	ArchiveTTL           int64                 `json:"archiveTTLNanos"`
	ArchiveLabelSelector *metav1.LabelSelector `json:"archiveLabelSelector"`
	Selector             *string               `json:"selector"` // labels.Selector.String() when archiving
	ClusterName          string                `json:"clusterName"`
	EffectiveClusterName string                `json:"effectiveClusterName"`
	SkipMigration        bool                  `json:"skipMigration"`
	NodeStatusOffload    bool                  `json:"nodeStatusOffLoad"`
	ConnectionPool       *pool                 `json:"connectionPool"`
	PostgreSQL           *database             `json:"postgresql"`
	MySQL                *database             `json:"mysql"`
	TableName            string                `json:"tableName"` // persist.GetTableName
	// CreateDBSession's choice: postgresql wins when both are set.
	Database string `json:"database"`
}

type answer struct {
	ID string `json:"id"`
	// Where Argo stopped: "" (accepted), "get" (config.Controller.Get), "marshal", "table", "selector".
	Stage       string                  `json:"stage"`
	Error       string                  `json:"error"`
	Persistence *persistence            `json:"persistence"`
	Retention   *config.RetentionPolicy `json:"retentionPolicy"`
	InstanceID  string                  `json:"instanceID"`
}

func ref(s apiv1.SecretKeySelector) secretRef {
	return secretRef{Name: s.Name, Key: s.Key, Optional: s.Optional}
}

func dbView(c config.DatabaseConfig) *database {
	return &database{Host: c.Host, Port: c.Port, Database: c.Database, TableName: c.TableName,
		UserNameSecret: ref(c.UsernameSecret), PasswordSecret: ref(c.PasswordSecret)}
}

func judge(ctx context.Context, req request) answer {
	out := answer{ID: req.ID}
	cm := &apiv1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "workflow-controller-configmap", Namespace: "argo"},
		Data: req.Data}
	cfg, err := config.NewController("argo", cm.Name, clientset{cm: cm}).Get(ctx)
	if err != nil {
		out.Stage, out.Error = "get", err.Error()
		return out
	}
	out.InstanceID, out.Retention = cfg.InstanceID, cfg.RetentionPolicy
	if _, err := yaml.Marshal(cfg); err != nil {
		out.Stage, out.Error = "marshal", err.Error()
		return out
	}
	p := cfg.Persistence
	if p == nil {
		return out
	}
	view := &persistence{Archive: p.Archive, ArchiveTTL: int64(time.Duration(p.ArchiveTTL)),
		ArchiveLabelSelector: p.ArchiveLabelSelector, ClusterName: p.ClusterName,
		EffectiveClusterName: p.GetClusterName(), SkipMigration: p.SkipMigration,
		NodeStatusOffload: p.NodeStatusOffload}
	if c := p.ConnectionPool; c != nil {
		view.ConnectionPool = &pool{MaxIdleConns: c.MaxIdleConns, MaxOpenConns: c.MaxOpenConns,
			ConnMaxLifetime: int64(time.Duration(c.ConnMaxLifetime))}
	}
	if c := p.PostgreSQL; c != nil {
		view.PostgreSQL = dbView(c.DatabaseConfig)
		view.PostgreSQL.SSL, view.PostgreSQL.SSLMode = c.SSL, c.SSLMode
		view.Database = "postgresql"
	}
	if c := p.MySQL; c != nil {
		view.MySQL = dbView(c.DatabaseConfig)
		view.MySQL.Options = c.Options
		if view.Database == "" {
			view.Database = "mysql"
		}
	}
	out.Persistence = view
	tableName, err := persist.GetTableName(p)
	if err != nil {
		out.Stage, out.Error = "table", err.Error()
		return out
	}
	view.TableName = tableName
	if p.Archive {
		selector, err := p.GetArchiveLabelSelector()
		if err != nil {
			out.Stage, out.Error = "selector", err.Error()
			return out
		}
		text := selector.String()
		view.Selector = &text
	}
	return out
}

func main() {
	ctx := context.Background()
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 64<<20)
	out := bufio.NewWriter(os.Stdout)
	encoder := json.NewEncoder(out)
	for in.Scan() {
		var req request
		var ans answer
		if err := json.Unmarshal(in.Bytes(), &req); err != nil {
			ans = answer{Stage: "request", Error: err.Error()}
		} else {
			ans = judge(ctx, req)
		}
		if err := encoder.Encode(ans); err != nil {
			fmt.Fprintln(os.Stderr, "argoconfig:", err)
			os.Exit(1)
		}
		if err := out.Flush(); err != nil {
			os.Exit(1)
		}
	}
	if err := in.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "argoconfig:", err)
		os.Exit(1)
	}
}
