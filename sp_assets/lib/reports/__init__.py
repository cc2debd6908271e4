"""Amazon's reports: what each type is, how one is requested, waited for, downloaded, decoded and parsed.

Where things live (plain Python, no Dagster; the Dagster assets are in ``sp_assets/defs/reports``):

================  ========================================================================================
``catalog.py``    one ``ReportType`` row per Amazon report type: format, charset rule, window/cadence,
                  key, column types, options, defaults. The only list of report types in the project;
                  the configuration, the assets and the sandbox read it. Start here to add a type.
``api.py``        the Reports API 2021-06-30 calls (createReport, getReport(s), getReportDocument...)
``request.py``    ``ReportRequest``: one report to ask for (type, marketplaces, window, options)
``ledger.py``     ``ReportLedger``: the SQLite file of report ids that lets a relaunched run resume
``lifecycle.py``  ``run_report``: request or resume -> poll -> download (fresh URL on 403) -> decode
``decoding.py``   gunzip and transcode a document to UTF-8 (declared, marketplace or fallback charset)
                  (Cp1252 and Shift_JIS through glibc's iconv: ``native_codecs.py``)
``parsing.py``    read a flat file by header name; flatten the sales and traffic JSON
``tables.py``     the rules every report load shares (row numbers, constants, sales and traffic tables)
================  ========================================================================================

This ``__init__`` imports nothing, so ``catalog`` can be imported (by the sandbox) without the client.
"""
