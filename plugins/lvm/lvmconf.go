package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// lvmConf is the driver's own lvm.conf. Every lvm2 command the driver runs reads it, and only it,
// through LVM_SYSTEM_DIR: `--config` cannot turn AIO off, because lvm2 sets up its label scan
// before command-line settings apply (reference/limits.md §3).
type lvmConf struct {
	activation bool
	useAIO     bool
	// backupDir and archiveDir keep lvm2's metadata backups inside the state directory;
	// archives is how many archives lvm2 keeps per VG (0: no archiving).
	backupDir  string
	archiveDir string
	archives   int
	// extra is the operator's lvm_config, appended verbatim.
	extra string
}

// String renders the configuration as lvm.conf text.
func (c lvmConf) String() string {
	var b strings.Builder
	b.WriteString("# Written by kiln-driver-lvm when it is configured; edits are lost.\n")
	b.WriteString("# Set lvm_config in the backend's configuration instead.\n")
	fmt.Fprintf(&b, "global {\n\tactivation = %d\n\tuse_aio = %d\n}\n", bit(c.activation), bit(c.useAIO))
	fmt.Fprintf(&b, "backup {\n\tbackup = 1\n\tbackup_dir = %s\n", strconv.Quote(c.backupDir))
	fmt.Fprintf(&b, "\tarchive = %d\n\tarchive_dir = %s\n", bit(c.archives > 0), strconv.Quote(c.archiveDir))
	// retain_days = 0 bounds the archive by count alone: lvm2 prunes every archive beyond
	// retain_min, whatever its age.
	fmt.Fprintf(&b, "\tretain_min = %d\n\tretain_days = 0\n}\n", max(c.archives, 1))
	if c.extra != "" {
		b.WriteString(c.extra)
		b.WriteString("\n")
	}
	return b.String()
}

func bit(b bool) int {
	if b {
		return 1
	}
	return 0
}

// writeLVMConf lays out the backend's state directory — etc/lvm.conf, backup/, archive/ — and
// writes the configuration atomically. It returns the directory for LVM_SYSTEM_DIR.
func writeLVMConf(dir string, c lvmConf) (string, error) {
	etc := filepath.Join(dir, "etc")
	c.backupDir, c.archiveDir = filepath.Join(dir, "backup"), filepath.Join(dir, "archive")
	for _, d := range []string{etc, c.backupDir, c.archiveDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return "", err
		}
	}
	tmp, err := os.CreateTemp(etc, ".lvm.conf-*")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(c.String()); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	return etc, os.Rename(tmp.Name(), filepath.Join(etc, "lvm.conf"))
}

// backendDir names the backend's subdirectory of the state directory.
func backendDir(stateDir, backend string) (string, error) {
	if backend == "" {
		backend = "lvm"
	}
	if backend == "." || backend == ".." || strings.ContainsAny(backend, `/\`) {
		return "", fmt.Errorf("backend %q cannot name a directory", backend)
	}
	return filepath.Join(stateDir, backend), nil
}

// controlNode is device-mapper's control device.
const controlNode = "/dev/mapper/control"

// deviceMapper tells whether the kernel's device-mapper answers, and why. Opening the control
// node loads the module where it is modular; it fails (ENODEV, ENOENT) where there is none.
func deviceMapper(node string) (bool, string) {
	f, err := os.OpenFile(node, os.O_RDWR, 0)
	if err != nil {
		return false, err.Error()
	}
	f.Close()
	return true, node + " opens"
}

// activation resolves the configured mode to on or off, with the reason.
func activation(mode, node string) (bool, string) {
	switch mode {
	case "on":
		return true, "activation = on in the configuration"
	case "off":
		return false, "activation = off in the configuration"
	}
	ok, why := deviceMapper(node)
	return ok, "auto: " + why
}
