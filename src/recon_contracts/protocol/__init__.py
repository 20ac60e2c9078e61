"""Each API surface's vocabulary: paths, operation names, query spelling, link and manifest resolution, states."""
