package scenarios

import (
	"fmt"

	"github.com/ckptsim/ckptsim/engine"
)

// contractCheck is protocol-contract: the protocol's barrier handlers kept the
// contract of package checkpoint (a savepoint is always aligned) in the run and
// in its reference. The engine fails a job at its first violation, so this check
// names the cause that liveness and the other oracles would only show as a
// symptom. ok is false when no run broke the contract (the check is left out).
func contractCheck(got, ref *Observation) (c Check, ok bool) {
	for _, o := range []struct {
		run string
		obs *Observation
	}{{"", got}, {"the fault-free reference run: ", ref}} {
		if o.obs == nil || o.obs.Runtime == nil {
			continue
		}
		if vs := o.obs.Runtime.ContractViolations(); len(vs) > 0 {
			return Check{Name: "protocol-contract", Detail: o.run + describeViolations(vs)}, true
		}
	}
	return Check{}, false
}

func describeViolations(vs []engine.ContractViolation) string {
	if len(vs) == 1 {
		return vs[0].String()
	}
	return fmt.Sprintf("%s (and %d more)", vs[0], len(vs)-1)
}

// contractBroken reports whether cs hold a failed protocol-contract check: the
// run is a failed check whatever was expected (even a job expected to fail).
func contractBroken(cs []Check) bool {
	for _, c := range cs {
		if c.Name == "protocol-contract" && !c.OK {
			return true
		}
	}
	return false
}
