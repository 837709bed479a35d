"""Where runs execute beyond this process's threads: a detached run process and its
control channel (and, later, other engines). Nothing here imports Textual."""
