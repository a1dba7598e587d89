"""What is printed or exported: the plan table, the cycle summary, the demo's summary. Pure formatting:
each function returns lines (or data for JSON); the command line decides where they go."""
