package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// newTODO placeholder: replaced by the real command.
func newLintCmd(s streams) *cobra.Command {
	return &cobra.Command{
		Use:   "lint",
		Short: "not implemented yet",
		RunE: func(cmd *cobra.Command, args []string) error {
			return cannotRun(errors.New("lint: not implemented yet"))
		},
	}
}
