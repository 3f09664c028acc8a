import Lake
open Lake DSL

package «lean-agent-dev» where

@[default_target]
lean_lib Dev where
