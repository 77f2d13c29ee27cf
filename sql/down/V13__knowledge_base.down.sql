-- Reverts V13__knowledge_base. This deletes every article and its versions: export
-- them first (GET /api/v1/kb/articles) if they are wanted.
DROP TABLE kb_article_versions;
DROP TABLE kb_articles;
