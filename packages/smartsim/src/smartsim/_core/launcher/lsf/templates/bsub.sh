#!/bin/bash
# Written by smartsim: one LSF batch job that starts every step below and waits for them.
$directives
$preamble
pids=()
$steps
rc=0
for pid in "$${pids[@]}"; do
  wait "$$pid" || rc=$$?
done
exit $$rc
