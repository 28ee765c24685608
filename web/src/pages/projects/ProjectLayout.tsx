// A project's frame: its name and the tabs of its pages (issue 13). Placeholder until built.
import { Outlet } from 'react-router-dom';

export function ProjectLayout() {
  return <Outlet />;
}
