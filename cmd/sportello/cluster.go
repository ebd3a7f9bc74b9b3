package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"sportello/internal/cluster"
)

// runCluster is `sportello cluster`: with no command (or "up") it starts
// the local cluster and supervises it until interrupted; status, kill,
// stop, start and restart talk to a running supervisor.
func runCluster(ctx context.Context, logger *slog.Logger, out io.Writer, args []string) error {
	fs := flag.NewFlagSet("cluster", flag.ContinueOnError)
	dir := fs.String("dir", ".data/cluster", "state folder of the cluster")
	bin := fs.String("bin", "bin", "folder of sportello, temporal-server, temporal-sql-tool and temporal-ui-server")
	demo := fs.Bool("demo", true, "seed the demo accounts (so that a person can log in)")
	base := fs.Int("port-base", 17000, "ports are this plus fixed offsets (proxy +80, Temporal +233, Web UI +280, PostgreSQL +432...)")
	// Flags first, then the command: sportello cluster [flags] [up|status|kill NAME|...].
	if err := fs.Parse(args); err != nil {
		return err
	}
	command, name := "up", ""
	if fs.NArg() > 0 {
		command = fs.Arg(0)
	}
	if fs.NArg() > 1 {
		name = fs.Arg(1)
	}
	if fs.NArg() > 2 {
		return fmt.Errorf("cluster: unexpected arguments %v", fs.Args()[2:])
	}
	if command != "up" {
		text, err := cluster.Control(ctx, *dir, command, name)
		if err != nil {
			return err
		}
		fmt.Fprint(out, text)
		return nil
	}
	started := time.Now()
	c, err := cluster.Start(ctx, cluster.Options{Dir: *dir, BinDir: *bin, Demo: *demo,
		Ports: cluster.DefaultPorts(*base, 2, 2), Logger: logger})
	if err != nil {
		return err
	}
	defer func() {
		logger.Info("stopping the cluster")
		if err := c.Stop(); err != nil {
			logger.Error("stop", "err", err)
		}
	}()
	fmt.Fprintf(out, "\nThe Sportello cluster is running (started in %s). Press Ctrl-C to stop.\n\n", time.Since(started).Round(100*time.Millisecond))
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  Portale web (proxy → 2 API)\t%s\n", c.URL())
	fmt.Fprintf(tw, "  Temporal Web UI\t%s/namespaces/%s/workflows\n", c.UIURL(), cluster.Namespace)
	fmt.Fprintf(tw, "  Temporal frontend\t%s (namespace %s)\n", c.TemporalAddress(), cluster.Namespace)
	fmt.Fprintf(tw, "  Posta (mail catcher)\t%s\n", c.MailURL())
	fmt.Fprintf(tw, "  Pagamenti (sandbox)\t%s\n", c.PaymentsURL())
	fmt.Fprintf(tw, "  Database\t%s\n", redactURL(c.DatabaseURL()))
	fmt.Fprintf(tw, "  State and logs\t%s\n", c.Dir())
	_ = tw.Flush()
	fmt.Fprintf(out, "\n%s\nsportello cluster [--dir %s] status | kill NAME | stop NAME | start NAME | restart NAME\n%s\n",
		cluster.FormatStatus(c.Status()), *dir, strings.Repeat("-", 72))
	return c.ServeControl(ctx)
}
