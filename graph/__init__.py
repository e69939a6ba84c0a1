"""graph: the only package that imports neo4j — driver, schema, repositories, scans and the local server."""
