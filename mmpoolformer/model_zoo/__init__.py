"""The model zoo: ``model-index.yml`` and its metafiles as data
(:mod:`.metafiles`), and the pages generated from them, each config
folder's README and ``docs/model_zoo.md`` (:mod:`.readmes`), with the
papers' abstracts and citations (:mod:`.papers`)."""
