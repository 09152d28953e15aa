// Command kiln is Kiln's host process and client: `kiln agent` runs the control plane.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/hashicorp/go-hclog"
)

const usage = `usage:
  kiln agent -config FILE            run the agent
  kiln agent -dev [-listen ADDR] [-data-dir DIR]
                                     run it with embedded defaults: SQLite, noauth, fake and file backends
  kiln volume create [-name N] [-size GiB] [-type T] [-zone Z] [-snapshot ID | -source-volume ID]
  kiln volume list | volume show ID | volume delete [-cascade | -force] ID
  kiln volume update [-name N] [-description D] ID
  kiln volume extend ID SIZE | volume reset-status ID STATUS
  kiln snapshot create [-name N] [-description D] [-force] VOLUME_ID
  kiln snapshot list | snapshot show ID | snapshot delete ID
  kiln snapshot update [-name N] [-description D] ID
  kiln snapshot reset-status ID STATUS | snapshot force-delete ID
  kiln type list | type create NAME [KEY=VALUE ...]
  kiln pool list | service list | quota show [PROJECT]
  kiln quota check -config FILE | -dev [-data-dir DIR] [-fix]
                                         recount usage from the agent's database; exit 1 on a difference
client flags: -endpoint URL ($KILN_ENDPOINT), -token T ($KILN_TOKEN, noauth: user:project),
              -project P ($KILN_PROJECT), -format table|json`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch os.Args[1] {
	case "agent":
		err = agentCommand(ctx, os.Args[2:], os.Stderr)
	case "quota":
		if len(os.Args) > 2 && os.Args[2] == "check" {
			err = quotaCheckCommand(ctx, os.Args[3:], os.Stdout, os.Stderr)
		} else {
			err = clientCommand(ctx, os.Args[1:], os.Stdout, os.Stderr)
		}
	case "-h", "-help", "--help", "help":
		fmt.Println(usage)
		return
	default:
		err = clientCommand(ctx, os.Args[1:], os.Stdout, os.Stderr)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "kiln:", err)
		os.Exit(1)
	}
}

func agentCommand(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("agent", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "configuration `file` (HCL)")
	dev := fs.Bool("dev", false, "run with embedded defaults")
	listen := fs.String("listen", "127.0.0.1:8776", "API address, with -dev")
	dataDir := fs.String("data-dir", filepath.Join(os.TempDir(), "kiln-dev"), "data `directory`, with -dev")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := loadAgentConfig(*configPath, *dev, *listen, *dataDir)
	if err != nil {
		return err
	}
	log := hclog.New(&hclog.LoggerOptions{Name: "kiln", Level: hclog.LevelFromString(cfg.LogLevel), Output: stderr})
	a, err := newAgent(ctx, cfg, log)
	if err != nil {
		return err
	}
	return a.run(ctx)
}

func loadAgentConfig(path string, dev bool, listen, dataDir string) (*Config, error) {
	switch {
	case dev && path != "":
		return nil, fmt.Errorf("-dev and -config exclude each other")
	case dev:
		return devConfig(listen, dataDir)
	case path == "":
		return nil, fmt.Errorf("give -config FILE, or -dev")
	}
	return LoadConfig(path)
}
