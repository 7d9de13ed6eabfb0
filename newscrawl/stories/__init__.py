"""Stories: the same news once, across sites and runs. An article body's MinHash signature
(`signature`), an index of every article seen on disk or on Redis (`index`), and the pipeline stage
that gives each article its `story` and `story_lead` (`pipeline`). docs/stories.md."""

THRESHOLD = 0.5  # estimated Jaccard similarity from which two bodies tell one story (chosen: docs/stories.md)
