// Interfaces and routes.
