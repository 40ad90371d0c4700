package simrun

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/ckptsim/ckptsim/checkpoint"
	"github.com/ckptsim/ckptsim/scenarios"
	"github.com/spf13/cobra"
)

// mutantPrefix marks deliberately broken protocols that exist to show the checkers
// catch them; suites leave them out unless asked.
const mutantPrefix = "mutant/"

func listCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the named scenarios, one a line: name, then what it does",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
			for _, sc := range scenarios.Registry() {
				fmt.Fprintf(tw, "%s\t%s\n", sc.Name, shortDescription(sc.Description, 90))
			}
			return tw.Flush()
		},
	}
}

// shortDescription is the first sentence of d on one line, cut to at most max runes.
func shortDescription(d string, max int) string {
	d = strings.Join(strings.Fields(d), " ")
	if i := strings.Index(d, ". "); i >= 0 {
		d = d[:i+1]
	}
	if r := []rune(d); len(r) > max {
		d = string(r[:max-1])
		if i := strings.LastIndex(d, " "); i > 0 {
			d = d[:i] // cut at a word boundary
		}
		d = strings.TrimRight(d, " ,;:") + "…"
	}
	return d
}

func showCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "show NAME",
		Short: "Print a named scenario as a YAML scenario file (run it back with run --file)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sc, err := lookupScenario(args[0])
			if err != nil {
				return err
			}
			y, err := sc.YAML()
			if err != nil {
				return failErr("scenario %s: %v", sc.Name, err)
			}
			_, err = cmd.OutOrStdout().Write(y)
			return err
		},
	}
}

func protocolsCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "protocols",
		Short: "List the checkpoint protocols with the guarantee each promises and its family (coordinated, uncoordinated, communication-induced)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
			for _, name := range checkpoint.Names() {
				p, err := checkpoint.Lookup(name)
				if err != nil {
					return failErr("%v", err)
				}
				note := ""
				if strings.HasPrefix(name, mutantPrefix) {
					note = "\t(deliberately broken: the checkers must catch it; not in suites by default)"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s%s\n", name, p.Guarantee(), checkpoint.FamilyOf(p), note)
			}
			return tw.Flush()
		},
	}
}

// lookupScenario finds a named scenario; an unknown name is a usage error.
func lookupScenario(name string) (*scenarios.Scenario, error) {
	sc, err := scenarios.Lookup(name)
	if err != nil {
		return nil, usageErr("%v", err)
	}
	return sc, nil
}
