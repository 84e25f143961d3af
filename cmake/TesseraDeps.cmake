# Optional and extra dependencies of the compiled library, one block per need.
