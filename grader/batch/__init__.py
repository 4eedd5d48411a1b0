"""Grade a class: ``grader batch DIR --rubric NAME --out OUT`` (docs/architecture.md, "Batch").

One module per concern, from the folder of submissions to the class's gradebook:

* :mod:`grader.batch.discovery`: the submissions a folder holds, one per student
  (:mod:`grader.batch.lms` reads LMS names, :mod:`grader.batch.archive` unpacks a zip,
  :mod:`grader.batch.roster` keeps what the download said about each student);
* :mod:`grader.batch.resume`: which finished reports ``--resume`` keeps, and the instructor's
  scores a regraded submission carries over;
* :mod:`grader.batch.task`: the per-submission pipeline, :func:`~grader.batch.task.grade_one`,
  a plain picklable function that never raises (any failure is an error row);
* :mod:`grader.batch.output`: :class:`~grader.batch.output.OutputFolder`, which owns the
  output folder's layout, its lock, the atomic writes and the listing of its reports;
* :mod:`grader.batch.executors`: ``grade_one`` in local processes or on a Dask cluster;
* :mod:`grader.batch.progress`: the progress bar and the line per finished submission;
* :mod:`grader.batch.runner`: the orchestration, :func:`~grader.batch.runner.run_batch`;
* :mod:`grader.batch.gradebook` and :mod:`grader.batch.manual`: the gradebook and summary
  rebuilt from the reports on disk, and ``grader merge-manual``;
* :mod:`grader.batch.similarity`: similar pairs of submissions (``copydetect``);
* :mod:`grader.batch.lms_export`: ``grader export``, the grades into the LMS's upload files.
"""
