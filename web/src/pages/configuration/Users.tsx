// Users (issue 13). Placeholder until its page is built.
import { ComingSoon } from '../Placeholders';

export function Users() {
  return <ComingSoon title="Users" />;
}
