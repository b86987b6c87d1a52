#!/bin/bash
#SBATCH --output=time.out
#SBATCH --job-name={{job_name}}
#SBATCH --chdir={{working_directory}}
#SBATCH --partition=PARTITION
#SBATCH --ntasks={{cores}}
{%- if run_time_max %}
#SBATCH --time={{ [1, run_time_max // 60]|max }}
{%- endif %}
{{command}}
status=$?
# Records the finish pyiron does not write without a database (pyiron_finalize_status.py).
if [ "$status" -eq 0 ]; then python "$HOME/pyiron/resources/queues/pyiron_finalize_status.py" {{ command.split()[-1] }} || true; fi
exit $status
