#!/bin/sh
# Starts one node of the test bed's cluster: `controller`, `compute` or `login`. The munge
# key is shared by all nodes through /etc/munge-shared (a volume the test bed fills).
set -eu
role=$1
install -o munge -g munge -m 0400 /etc/munge-shared/munge.key /etc/munge/munge.key
mkdir -p /run/munge && chown munge:munge /run/munge
runuser -u munge -- /usr/sbin/munged
case "$role" in
    controller) exec runuser -u slurm -- /usr/sbin/slurmctld -D ;;
    compute) exec /usr/sbin/slurmd -D -N "$(hostname)" ;;
    login) exec /usr/sbin/sshd -D -e ;;
    *) echo "unknown role $role" >&2; exit 2 ;;
esac
