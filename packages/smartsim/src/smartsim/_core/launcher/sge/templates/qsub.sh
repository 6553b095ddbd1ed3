#!/bin/bash
# Written by smartsim: one batch job that starts every step below and waits for them.
$directives
$preamble
cd $workdir || exit 1
pids=()
$steps
rc=0
for pid in "$${pids[@]}"; do
  wait "$$pid" || rc=$$?
done
exit $$rc
