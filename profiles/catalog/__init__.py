"""The service catalog (事项目录): data in YAML beside this file, validated on load (see docs/CATALOG.md)."""

from profiles.catalog.loader import DEFAULT_DIR, CatalogError, Problem, check_catalog, load_catalog
from profiles.catalog.model import Catalog, Service

__all__ = ["DEFAULT_DIR", "Catalog", "CatalogError", "Problem", "Service", "check_catalog", "load_catalog"]
