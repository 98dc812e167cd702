"""HTTP routes. Views stay thin: they call services and render templates."""
