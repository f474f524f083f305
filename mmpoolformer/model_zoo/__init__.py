"""The model-zoo pages: each config folder's README and
``docs/model_zoo.md``, generated from ``model-index.yml`` and its
metafiles (:mod:`.readmes`), with the papers' abstracts and citations
(:mod:`.papers`)."""
