#!/bin/bash
# Written by smartsim: one Cobalt batch job (script mode) that starts every step below and waits for them.
$directives
$preamble
pids=()
$steps
rc=0
for pid in "$${pids[@]}"; do
  wait "$$pid" || rc=$$?
done
exit $$rc
