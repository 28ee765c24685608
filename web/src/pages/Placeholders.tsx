import { Link } from 'react-router-dom';
import { Page } from '../components/Page';

export function ComingSoon({ title }: { title: string }) {
  return (
    <Page title={title}>
      <p>This part of the portal is not built yet. The API serves it already: see /api.</p>
    </Page>
  );
}

export function NotFound() {
  return (
    <Page title="Page not found">
      <p>
        Nothing lives at this address. Go to the <Link to="/">dashboard</Link>.
      </p>
    </Page>
  );
}
