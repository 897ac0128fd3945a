"""The fax-intake application around the pipeline: the `intake` CLI, the HTTP API,
the job table and original store, the queue and its workers, the watched folder.
A thin layer over :func:`pipeline.process_file`; see README "The service"."""
