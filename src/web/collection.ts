/**
 * The collection page's entry (GET /c/:id, rendered by src/api/share/collection-page.ts): its
 * styles. The page works without a script — every file has its own download link, and
 * "Download all" stays hidden until a script shows it — so live updates and the zip are added
 * here, on top of a page that already works.
 */
import './collection.css';
