package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/types/known/durationpb"
)

// The Temporal services, each its own process of bin/temporal-server.
var temporalServices = []string{"history", "matching", "frontend", "worker"}

// NumHistoryShards is fixed when the schema is created: changing it later
// needs a new Temporal database.
const NumHistoryShards = 8

// Namespace is Sportello's Temporal namespace in the cluster.
const Namespace = "sportello"

// namespaceRetention is how long closed workflows stay in Temporal.
const namespaceRetention = 7 * 24 * time.Hour

const temporalConfigTmpl = `# Written by sportello cluster: the Temporal server's static configuration,
# one file for the four services (each process starts one with --service).
log:
  stdout: true
  level: warn

persistence:
  defaultStore: default
  visibilityStore: visibility
  numHistoryShards: %[1]d
  datastores:
    default:
      sql:
        pluginName: postgres12
        databaseName: temporal
        connectAddr: "127.0.0.1:%[2]d"
        connectProtocol: tcp
        user: temporal
        password: "%[3]s"
        maxConns: 20
        maxIdleConns: 20
        maxConnLifetime: 1h
    visibility:
      sql:
        pluginName: postgres12
        databaseName: temporal_visibility
        connectAddr: "127.0.0.1:%[2]d"
        connectProtocol: tcp
        user: temporal
        password: "%[3]s"
        maxConns: 10
        maxIdleConns: 10
        maxConnLifetime: 1h

global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: "127.0.0.1"

services:
  frontend:
    rpc:
      grpcPort: %[4]d
      httpPort: %[5]d
      membershipPort: %[6]d
      bindOnLocalHost: true
  history:
    rpc:
      grpcPort: %[7]d
      membershipPort: %[8]d
      bindOnLocalHost: true
  matching:
    rpc:
      grpcPort: %[9]d
      membershipPort: %[10]d
      bindOnLocalHost: true
  worker:
    rpc:
      grpcPort: %[11]d
      membershipPort: %[12]d
      bindOnLocalHost: true

publicClient:
  hostPort: "127.0.0.1:%[4]d"

clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: active
  currentClusterName: active
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: frontend
      rpcAddress: "127.0.0.1:%[4]d"
      httpAddress: "127.0.0.1:%[5]d"

dcRedirectionPolicy:
  policy: noop

dynamicConfigClient:
  filepath: "%[13]s"
  pollInterval: 10s
`

// dynamicConfig raises the visibility rate of the namespace (the operations
// page and the tests count and list workflows).
const dynamicConfig = `# Written by sportello cluster: Temporal's dynamic configuration.
frontend.namespaceRPS.visibility:
  - value: 100
history.hostLevelCacheMaxSize:
  - value: 8192
`

const uiConfigTmpl = `# Written by sportello cluster: the Temporal Web UI.
temporalGrpcAddress: "127.0.0.1:%d"
host: 127.0.0.1
port: %d
enableUi: true
defaultNamespace: %s
notifyOnNewVersion: false
cors:
  cookieInsecure: true
`

// writeTemporalConfig writes config/cluster.yaml, the dynamic
// configuration and the Web UI's ui/cluster.yaml under dir.
func writeTemporalConfig(dir string, ports Ports, password string) error {
	cfgDir := filepath.Join(dir, "config")
	uiDir := filepath.Join(dir, "ui")
	for _, d := range []string{cfgDir, uiDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return err
		}
	}
	dyn := filepath.Join(cfgDir, "dynamicconfig.yaml")
	if err := os.WriteFile(dyn, []byte(dynamicConfig), 0o600); err != nil {
		return err
	}
	static := fmt.Sprintf(temporalConfigTmpl, NumHistoryShards, ports.Postgres, password,
		ports.Frontend, ports.FrontendHTTP, ports.FrontendMembership,
		ports.History, ports.HistoryMembership,
		ports.Matching, ports.MatchingMembership,
		ports.TemporalWorker, ports.TemporalWorkerMembership, dyn)
	if err := os.WriteFile(filepath.Join(cfgDir, "cluster.yaml"), []byte(static), 0o600); err != nil {
		return err
	}
	ui := fmt.Sprintf(uiConfigTmpl, ports.Frontend, ports.UI, Namespace)
	return os.WriteFile(filepath.Join(uiDir, "cluster.yaml"), []byte(ui), 0o600)
}

// createTemporalSchema creates Temporal's two databases and brings their
// schemas to the latest version with Temporal's own SQL tool
// (bin/temporal-sql-tool), as the role the services use.
func createTemporalSchema(ctx context.Context, sqlTool string, adminURL string, pgPort int, password, logFile string) error {
	for _, db := range []struct{ name, schema string }{
		{"temporal", "postgresql/v12/temporal"},
		{"temporal_visibility", "postgresql/v12/visibility"},
	} {
		exists, err := databaseExists(ctx, adminURL, db.name)
		if err != nil {
			return err
		}
		base := []string{"--plugin", "postgres12", "--ep", "127.0.0.1", "--port", strconv.Itoa(pgPort),
			"--user", "temporal", "--password", password, "--db", db.name}
		var steps [][]string
		if !exists {
			steps = append(steps,
				append(append([]string{}, base...), "create-database"),
				append(append([]string{}, base...), "setup-schema", "-v", "0.0"))
		}
		steps = append(steps, append(append([]string{}, base...), "update-schema", "--schema-name", db.schema))
		for _, args := range steps {
			if err := runLogged(ctx, sqlTool, args, logFile); err != nil {
				return fmt.Errorf("temporal-sql-tool %s on %s: %w (log: %s)", args[len(base)], db.name, err, logFile)
			}
		}
	}
	return nil
}

func databaseExists(ctx context.Context, adminURL, name string) (bool, error) {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return false, err
	}
	defer conn.Close(ctx)
	var exists bool
	err = conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists)
	return exists, err
}

// runLogged runs bin with args, its output appended to logFile. The
// password given with --password is not written to the log.
func runLogged(ctx context.Context, bin string, args []string, logFile string) error {
	f, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	shown := append([]string{}, args...)
	for i := range shown {
		if i > 0 && shown[i-1] == "--password" {
			shown[i] = "***"
		}
	}
	fmt.Fprintf(f, "---- cluster: %s %v at %s\n", filepath.Base(bin), shown, time.Now().Format(time.RFC3339))
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	return cmd.Run()
}

// ensureNamespace registers Sportello's namespace when it is missing
// (the frontend may take a moment to see the other services).
func ensureNamespace(ctx context.Context, hostPort string) error {
	nc, err := client.NewNamespaceClient(client.Options{HostPort: hostPort})
	if err != nil {
		return err
	}
	defer nc.Close()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, err := nc.Describe(cctx, Namespace)
		if err == nil {
			cancel()
			return nil
		}
		var nf *serviceerror.NamespaceNotFound
		if errors.As(err, &nf) {
			err = nc.Register(cctx, &workflowservice.RegisterNamespaceRequest{
				Namespace:                        Namespace,
				Description:                      "Sportello",
				WorkflowExecutionRetentionPeriod: durationpb.New(namespaceRetention),
			})
			var exists *serviceerror.NamespaceAlreadyExists
			if err == nil || errors.As(err, &exists) {
				cancel()
				return nil
			}
		}
		cancel()
		if time.Now().After(deadline) {
			return fmt.Errorf("namespace %s: %w", Namespace, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// dialReady is a readiness check: something accepts connections on port.
func dialReady(port int) func(context.Context) error {
	return func(ctx context.Context) error {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			return err
		}
		return c.Close()
	}
}
