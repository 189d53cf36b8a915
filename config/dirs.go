package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"

	"github.com/BurntSushi/toml"
)

const isWindows = runtime.GOOS == "windows"

// xdgDir is $envName, or home/fallback when it is unset or relative (the XDG spec says
// to ignore relative values). It reads only getenv, so tests control every path.
func xdgDir(getenv func(string) (string, bool), envName, fallback string) (string, error) {
	if v, ok := getenv(envName); ok && filepath.IsAbs(v) {
		return v, nil
	}
	for _, name := range []string{"HOME", "USERPROFILE"} {
		if v, ok := getenv(name); ok && filepath.IsAbs(v) {
			return filepath.Join(v, fallback), nil
		}
	}
	return "", fmt.Errorf("cannot find a home directory: set %s or HOME", envName)
}

func defaultConfigFile(getenv func(string) (string, bool)) (string, error) {
	dir, err := xdgDir(getenv, "XDG_CONFIG_HOME", ".config")
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "hoist", "config.toml"), nil
}

// DefaultLocalDir is where the embedded local store keeps files when --local-dir is not
// given: $XDG_DATA_HOME/hoist/local, else ~/.local/share/hoist/local.
func DefaultLocalDir(getenv func(string) (string, bool)) (string, error) {
	dir, err := xdgDir(getenv, "XDG_DATA_HOME", filepath.Join(".local", "share"))
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "hoist", "local"), nil
}

// StateDir is $XDG_STATE_HOME/hoist, else ~/.local/state/hoist.
func StateDir(getenv func(string) (string, bool)) (string, error) {
	dir, err := xdgDir(getenv, "XDG_STATE_HOME", filepath.Join(".local", "state"))
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "hoist"), nil
}

// LastUsed is the metadata of the last upload, offered as the form's prefill.
type LastUsed struct {
	OrgID    string `toml:"org_id"`
	UserID   string `toml:"user_id"`
	TTLHours int    `toml:"ttl_hours"`
}

const lastUsedFile = "last.toml"

// LoadLastUsed reads StateDir/last.toml. No file yet is not an error: it gives a zero
// LastUsed. A TTL outside 1..8760 is dropped rather than offered.
func LoadLastUsed(getenv func(string) (string, bool)) (LastUsed, error) {
	dir, err := StateDir(getenv)
	if err != nil {
		return LastUsed{}, err
	}
	path := filepath.Join(dir, lastUsedFile)
	var lu LastUsed
	_, err = toml.DecodeFile(path, &lu)
	if errors.Is(err, fs.ErrNotExist) {
		return LastUsed{}, nil
	}
	if err != nil {
		return LastUsed{}, fmt.Errorf("read last-used metadata %s: %w; delete the file to start afresh", path, err)
	}
	if ttl, _ := settingByName("ttl-hours"); !ttl.inRange(int64(lu.TTLHours)) {
		lu.TTLHours = 0
	}
	return lu, nil
}

// SaveLastUsed writes StateDir/last.toml with mode 0600, atomically: a crash leaves the
// old file or the new one, never half of one.
func SaveLastUsed(getenv func(string) (string, bool), lu LastUsed) (err error) {
	dir, err := StateDir(getenv)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("save last-used metadata: %w", err)
	}
	path := filepath.Join(dir, lastUsedFile)
	tmp, err := os.CreateTemp(dir, ".last-*.toml") // CreateTemp makes it 0600
	if err != nil {
		return fmt.Errorf("save last-used metadata: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := toml.NewEncoder(tmp).Encode(lu); err != nil {
		return fmt.Errorf("save last-used metadata %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("save last-used metadata %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save last-used metadata %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("save last-used metadata %s: %w", path, err)
	}
	return nil
}

// PrefillLastUsed fills the metadata that no flag, variable or config file
// set with what the last upload used: what the TUI's form offers. Those
// values are marked OriginState, so hoist config shows where they came from.
// Headless runs do not call it: a script sends only what it was given.
func (c *Config) PrefillLastUsed(getenv func(string) (string, bool)) error {
	lu, err := LoadLastUsed(getenv)
	if err != nil {
		return err
	}
	dir, _ := StateDir(getenv)
	where := filepath.Join(dir, lastUsedFile)
	fill := func(name string, empty bool, set func()) {
		if empty && c.Origins[name] == OriginDefault {
			set()
			c.from(name, OriginState, where)
		}
	}
	if lu.OrgID != "" {
		fill("org-id", c.OrgID == "", func() { c.OrgID = lu.OrgID })
	}
	if lu.UserID != "" {
		fill("user-id", c.UserID == "", func() { c.UserID = lu.UserID })
	}
	if lu.TTLHours != 0 {
		fill("ttl-hours", c.TTLHours == 0, func() { c.TTLHours = lu.TTLHours })
	}
	return nil
}
