"""The item pipelines, in order: validation against the schema, then revision, post and journal
(the images pipeline, when on, is `newscrawl.archive.images`)."""
