"""Step processes: spawned marked and guarded, ended with their whole group, never orphaned."""
