package config

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"slices"
	"time"

	"github.com/BurntSushi/toml"
)

// fileValue is one top-level key of the config file and the line it is on.
type fileValue struct {
	key  string
	val  any // as BurntSushi/toml decodes into any: string, int64, float64, bool, …
	line int
}

type configFile struct {
	values []fileValue // in the order they appear in the file
	mode   fs.FileMode
}

// readConfigFile decodes path. A missing file gives an error matching fs.ErrNotExist;
// anything else wrong is a *UsageError naming the file and line.
func readConfigFile(path string) (configFile, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return configFile{}, usageErr(err, "config file %s does not exist; create it or fix --config/HOIST_CONFIG", path)
	}
	if err != nil {
		return configFile{}, usageErr(err, "config file: %v", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return configFile{}, usageErr(err, "config file: %v", err)
	}
	if info.IsDir() {
		return configFile{}, usageErr(nil, "config file %s is a directory; point --config at a file", path)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return configFile{}, usageErr(err, "config file: %v", err)
	}

	var raw map[string]toml.Primitive
	md, err := toml.Decode(string(data), &raw)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return configFile{}, usageErr(err, "%s line %d: %s; fix the TOML syntax", path, pe.Position.Line, pe.Message)
		}
		return configFile{}, usageErr(err, "%s: %v", path, err)
	}

	cf := configFile{mode: info.Mode()}
	for key, p := range raw {
		var v any
		if err := md.PrimitiveDecode(p, &v); err != nil {
			return configFile{}, usageErr(err, "%s: key %q: %v", path, key, err)
		}
		cf.values = append(cf.values, fileValue{key: key, val: v, line: keyLine(&md, p)})
	}
	slices.SortFunc(cf.values, func(a, b fileValue) int { return a.line - b.line })
	return cf, nil
}

// lineProbe learns where a key was defined. BurntSushi/toml keeps key positions private,
// but it reports them in the ParseError it wraps around any error an Unmarshaler
// returns, so decoding a key into a probe that always fails reveals its line.
type lineProbe struct{}

var errProbe = errors.New("line probe")

func (lineProbe) UnmarshalTOML(any) error { return errProbe }

func keyLine(md *toml.MetaData, p toml.Primitive) int {
	var probe lineProbe
	var pe toml.ParseError
	if errors.As(md.PrimitiveDecode(p, &probe), &pe) {
		return pe.Position.Line
	}
	return 0
}

// tomlType names a decoded TOML value's type for an error message. It never shows the
// value: a misplaced token would be printed with it.
func tomlType(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case bool:
		return "a boolean"
	case time.Time:
		return "a date/time"
	case []any, []map[string]any:
		return "an array"
	case map[string]any:
		return "a table"
	}
	return "an unexpected TOML type"
}
