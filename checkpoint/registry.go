package checkpoint

import (
	"fmt"
	"sort"
	"sync"
)

// The registry maps names to protocols. It is the harness's, not a simulation's:
// protocols register at init time or before runs start, and runs on many
// goroutines look them up.
var (
	registryMu sync.RWMutex
	protocols  = map[string]Protocol{}
)

// Register makes a protocol selectable by name. It panics on a duplicate name:
// registration happens at init time.
func Register(p Protocol) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, dup := protocols[p.Name()]; dup {
		panic("checkpoint: protocol " + p.Name() + " registered twice")
	}
	protocols[p.Name()] = p
}

// Lookup returns the protocol registered under name.
func Lookup(name string) (Protocol, error) {
	registryMu.RLock()
	p, ok := protocols[name]
	registryMu.RUnlock()
	if ok {
		return p, nil
	}
	return nil, fmt.Errorf("unknown protocol %q (known: %v)", name, Names())
}

// Names lists the registered protocols, sorted.
func Names() []string {
	registryMu.RLock()
	defer registryMu.RUnlock()
	names := make([]string, 0, len(protocols))
	for n := range protocols {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
