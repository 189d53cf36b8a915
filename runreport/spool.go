package runreport

import (
	"encoding/json"
	"fmt"
	"os"
	"sync"
)

// Spool keeps the report records of a run's files as they end, on disk, by
// the file's id: the terminal UI's run of 100,000 files then holds 8 bytes a
// file for them instead of every result's strings (issue 15), and its
// summary and report read them back. The file is a private temporary one,
// removed when the spool is closed (at once where the system allows an
// open file to be unlinked); where no temporary file can be made, the
// records stay in memory. A record holds no secret: a File never carries a
// share link, only that one was made.
//
// Put, Record and Get may be called from different goroutines.
type Spool struct {
	mu  sync.Mutex
	f   *os.File // nil: the records are in mem
	mem []byte
	// pend are the records not yet written to f, from offset flushed on: a
	// write per spoolFlush bytes, not per file (a syscall per file was a
	// fifth of the spool's cost in a CPU profile).
	pend    []byte
	flushed int64
	end     int64
	at      []int64 // by id: offset+1 of the file's last record; 0 for none
	size    []int32 // by id: its length
	err     error   // the first write that failed: the spool then keeps no more
}

// spoolFlush is how many bytes of records a spool gathers before it writes
// them.
const spoolFlush = 64 << 10

// NewSpool makes a spool for files with ids below n (more grow it) in the
// system's temporary folder, or in memory when none can be made there.
func NewSpool(n int) *Spool {
	s := &Spool{at: make([]int64, n), size: make([]int32, n)}
	f, err := os.CreateTemp("", "hoist-run-*")
	if err != nil {
		return s
	}
	// Unlinked while open, it is gone when closed or when hoist dies; where
	// the system refuses that, Close removes it.
	_ = os.Remove(f.Name())
	s.f = f
	return s
}

// Put keeps f as the record of file id, in place of any earlier one (a
// file retried ends again).
func (s *Spool) Put(id int, f File) error {
	data, err := json.Marshal(f)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	if s.f == nil {
		s.mem = append(s.mem, data...)
	} else {
		s.pend = append(s.pend, data...)
		if len(s.pend) >= spoolFlush {
			if _, err := s.f.WriteAt(s.pend, s.flushed); err != nil {
				s.err = fmt.Errorf("keeping the run's results: %w; check free space in the temporary folder", err)
				return s.err
			}
			s.flushed += int64(len(s.pend))
			s.pend = s.pend[:0]
		}
	}
	if id >= len(s.at) {
		n := max(id+1, 2*len(s.at))
		s.at = append(s.at, make([]int64, n-len(s.at))...)
		s.size = append(s.size, make([]int32, n-len(s.size))...)
	}
	s.at[id], s.size[id] = s.end+1, int32(len(data))
	s.end += int64(len(data))
	return nil
}

// Record is the JSON of file id's last record; nil when it has none.
func (s *Spool) Record(id int) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id < 0 || id >= len(s.at) || s.at[id] == 0 {
		return nil, nil
	}
	data := make([]byte, s.size[id])
	off := s.at[id] - 1
	switch {
	case s.f == nil:
		copy(data, s.mem[off:])
		return data, nil
	case off >= s.flushed: // a whole flush is written at once: no record straddles it
		copy(data, s.pend[off-s.flushed:])
		return data, nil
	}
	if _, err := s.f.ReadAt(data, off); err != nil {
		return nil, fmt.Errorf("reading back the run's results: %w", err)
	}
	return data, nil
}

// Get is file id's last record, and whether it has one.
func (s *Spool) Get(id int) (File, bool) {
	data, err := s.Record(id)
	if err != nil || data == nil {
		return File{}, false
	}
	var f File
	if json.Unmarshal(data, &f) != nil {
		return File{}, false
	}
	return f, true
}

// Close removes the spool's file.
func (s *Spool) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mem = nil
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	_ = os.Remove(s.f.Name()) // where it could not be unlinked while open
	return err
}
