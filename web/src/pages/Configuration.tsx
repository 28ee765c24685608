import { Link } from 'react-router-dom';
import { Page } from '../components/Page';

export function Configuration() {
  return (
    <Page title="Configuration">
      <ul className="cards">
        <li>
          <Link to="/configuration/nodes">Nodes</Link>
          <p>The cluster's server nodes: live last-seen, running tasks, task cap and drain.</p>
        </li>
      </ul>
    </Page>
  );
}
