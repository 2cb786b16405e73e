"""The run's outcome for people and tools: the verdict, plots, and HTML/Markdown/JSON renderings."""
