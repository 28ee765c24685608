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
        <li>
          <Link to="/configuration/users">Users</Link>
          <p>Who can sign in, their passwords and their API keys.</p>
        </li>
        <li>
          <Link to="/configuration/events">Events</Link>
          <p>The audit trail: who changed what, and when, with filters.</p>
        </li>
      </ul>
    </Page>
  );
}
